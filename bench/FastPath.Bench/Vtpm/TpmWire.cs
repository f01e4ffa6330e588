using System.Buffers.Binary;
using System.Net.Sockets;

namespace FastPath.Bench.Vtpm;

/// <summary>Raw TPM 2.0 command bytes and a blocking round trip over the swtpm command port: the one client
/// both servers are measured with, so neither side gets a different TSS stack.</summary>
/// <remarks>Stateless: safe from any thread as long as each caller uses its own socket and response buffer.</remarks>
internal static class TpmWire
{
    public const uint NvIndex = 0x01500100;

    /// <summary>Size of the NV index every run defines: the "NV writes of 32 bytes".</summary>
    public const ushort NvSize = 32;

    /// <summary>Large enough for every response these commands produce (the largest is GetCapability's).</summary>
    public const int ResponseBufferSize = 8192;

    public const uint Success = 0;

    /// <summary>TPM_RC_RETRY: the TPM did not run the command; send it again.</summary>
    public const uint Retry = 0x922;

    /// <summary>Offset of the data in an NV_Read response: header, parameterSize (sessions tag), TPM2B size.</summary>
    public const int NvReadDataOffset = 10 + 4 + 2;

    public static byte[] StartupClear() => Command(0x8001, 0x144, [], [0x00, 0x00]);

    public static byte[] GetRandom(ushort count) => Command(0x8001, 0x17B, [], [(byte)(count >> 8), (byte)count]);

    public static byte[] PcrExtendSha256(uint pcr) => Command(0x8002, 0x182, [pcr], [.. PasswordSession, 0, 0, 0, 1, 0x00, 0x0B, .. new byte[32]]);

    public static byte[] PcrReadSha256(uint pcr) => Command(0x8001, 0x17E, [], [0, 0, 0, 1, 0x00, 0x0B, 3, 0, 0, (byte)(1 << (int)(pcr - 16))]);

    public static byte[] NvDefine(ushort size) =>
        Command(0x8002, 0x12A, [0x40000001], [.. PasswordSession, 0, 0, 0, 14, .. Be(NvIndex), 0x00, 0x0B, 0x00, 0x02, 0x00, 0x02, 0, 0, (byte)(size >> 8), (byte)size]);

    public static byte[] NvWrite(byte[] data) =>
        Command(0x8002, 0x137, [0x40000001, NvIndex], [.. PasswordSession, (byte)(data.Length >> 8), (byte)data.Length, .. data, 0, 0]);

    public static byte[] NvRead(ushort size) => Command(0x8002, 0x14E, [0x40000001, NvIndex], [.. PasswordSession, (byte)(size >> 8), (byte)size, 0, 0]);

    /// <summary>TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FAMILY_INDICATOR, 1): a READ without a session.</summary>
    public static byte[] GetCapabilityFamily() => Command(0x8001, 0x17A, [], [0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 0, 1]);

    /// <summary>StartAuthSession: HMAC, unsalted (tpmKey NULL), unbound (bind NULL), no parameter encryption,
    /// SHA-256, with a 32-byte nonceCaller. Response: session handle at 10, nonceTPM (TPM2B) at 14.</summary>
    public static byte[] StartHmacSession(ReadOnlySpan<byte> nonceCaller) =>
        Command(0x8001, 0x176, [0x40000007, 0x40000007], [0, 32, .. nonceCaller, 0, 0, 0x00, 0x00, 0x10, 0x00, 0x0B]);

    /// <summary>PCR_Extend(pcr, SHA-256 zero digest) authorized by an HMAC session. The session key and the PCR's
    /// auth value are empty, so the HMAC key is empty: HMAC(cpHash ‖ nonceCaller ‖ nonceTPM ‖ attributes).</summary>
    public static byte[] PcrExtendHmac(uint pcr, uint session, ReadOnlySpan<byte> nonceCaller, ReadOnlySpan<byte> nonceTpm)
    {
        byte[] parameters = [0, 0, 0, 1, 0x00, 0x0B, .. new byte[32]];
        byte[] cpHash = System.Security.Cryptography.SHA256.HashData([0, 0, 0x01, 0x82, .. Be(pcr), .. parameters]);
        const byte ContinueSession = 0x01;
        byte[] hmac = System.Security.Cryptography.HMACSHA256.HashData([], [.. cpHash, .. nonceCaller, .. nonceTpm, ContinueSession]);
        byte[] auth = [.. Be(session), 0, (byte)nonceCaller.Length, .. nonceCaller, ContinueSession, 0, (byte)hmac.Length, .. hmac];
        return Command(0x8002, 0x182, [pcr], [.. Be((uint)auth.Length), .. auth, .. parameters]);
    }

    /// <summary>The nonceTPM of a response to a command with one session and no response parameters.</summary>
    public static ReadOnlySpan<byte> ResponseNonce(ReadOnlySpan<byte> response)
    {
        int size = BinaryPrimitives.ReadUInt16BigEndian(response[14..]);
        return response.Slice(16, size);
    }

    /// <summary>CreatePrimary under the owner hierarchy of an ECC P-256 ECDSA-SHA-256 signing key (restricted: an
    /// attestation key). Response: object handle at 10.</summary>
    public static byte[] CreatePrimaryEcc(bool restricted)
    {
        // fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign (| restricted)
        uint attributes = 0x00040072 | (restricted ? 0x00010000u : 0);
        byte[] publicArea = [0x00, 0x23, 0x00, 0x0B, .. Be(attributes), 0, 0, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0B, 0x00, 0x03, 0x00, 0x10, 0, 0, 0, 0];
        return Command(0x8002, 0x131, [0x40000001], [.. PasswordSession, 0, 4, 0, 0, 0, 0, (byte)(publicArea.Length >> 8), (byte)publicArea.Length, .. publicArea, 0, 0, 0, 0, 0, 0]);
    }

    public static byte[] FlushContext(uint handle) => Command(0x8001, 0x165, [], Be(handle));

    /// <summary>Sign of a 32-byte digest with ECDSA SHA-256 and a NULL hash-check ticket.</summary>
    public static byte[] SignEcdsa(uint key) =>
        Command(0x8002, 0x15D, [key], [.. PasswordSession, 0, 32, .. new byte[32], 0x00, 0x18, 0x00, 0x0B, 0x80, 0x24, 0x40, 0x00, 0x00, 0x07, 0, 0]);

    /// <summary>Quote of PCRs 0 and 7 (SHA-256) with 8 bytes of qualifying data and the key's own scheme.</summary>
    public static byte[] QuotePcr0And7(uint key) =>
        Command(0x8002, 0x158, [key], [.. PasswordSession, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x10, 0, 0, 0, 1, 0x00, 0x0B, 3, 0x81, 0, 0]);

    /// <summary>Writes <paramref name="counter"/> big-endian into every 4-byte word of an <see cref="NvWrite"/>
    /// command's data, so each write changes all 32 bytes and the final read can name the write it saw.</summary>
    public static void StampNvWrite(byte[] nvWrite, uint counter)
    {
        for (int offset = 0; offset < NvSize; offset += 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(nvWrite.AsSpan(NvWriteDataOffset + offset), counter);
        }
    }

    /// <summary>Offset of the data in <see cref="NvWrite"/>'s command: header, two handles, auth area, TPM2B size.</summary>
    public const int NvWriteDataOffset = 10 + 8 + 4 + 9 + 2;

    private static ReadOnlySpan<byte> PasswordSession => [0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0];

    private static byte[] Command(ushort tag, uint code, uint[] handles, byte[] rest)
    {
        byte[] command = new byte[10 + (4 * handles.Length) + rest.Length];
        BinaryPrimitives.WriteUInt16BigEndian(command, tag);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), (uint)command.Length);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(6), code);
        for (int i = 0; i < handles.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(10 + (4 * i)), handles[i]);
        }

        rest.CopyTo(command, 10 + (4 * handles.Length));
        return command;
    }

    private static byte[] Be(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Sends one command and reads its response; returns the response code.</summary>
    public static uint RoundTrip(Socket socket, byte[] command, byte[] response)
    {
        socket.Send(command);
        int read = 0;
        int size = 10;
        while (read < size)
        {
            int n = socket.Receive(response, read, size - read, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException("the TPM server closed the connection mid-response");
            }

            read += n;
            if (read >= 10)
            {
                size = (int)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(2));
            }
        }

        return BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));
    }

    /// <summary>Throws naming the command and the target when a setup command did not answer success.</summary>
    public static void Expect(uint code, string command, string target)
    {
        if (code != Success)
        {
            throw new InvalidOperationException($"{target}: {command} answered 0x{code:x}, expected success");
        }
    }

    /// <summary>A loopback connection whose receives time out after 30 s: no command here takes that long, so a
    /// server that stops answering fails the run with a SocketException instead of hanging it.</summary>
    public static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 30_000 };
        socket.Connect(System.Net.IPAddress.Loopback, port);
        return socket;
    }
}
