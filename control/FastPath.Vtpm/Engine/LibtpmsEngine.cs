using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using FastPath.Vtpm.Interop;

namespace FastPath.Vtpm.Engine;

/// <summary>
/// libtpms (the TCG reference TPM 2.0) embedded in this process through <see cref="Libtpms"/>. Its NVRAM callbacks
/// are <c>[UnmanagedCallersOnly]</c> functions: a load hands libtpms the persistent blob this engine was created
/// with (or TPM_RETRY, which makes libtpms manufacture a TPM), a store of <c>permall</c> (libtpms's whole NV,
/// written at the end of every command that changed it) goes to the owner's persist callback before the response
/// leaves, and the owner makes it durable (<see cref="Protocol.SwtpmServer"/>'s group commit into the state store:
/// crash-safe slots, one fdatasync per save). libtpms's other names (<c>volatilestate</c>, <c>savestate</c>) are
/// only written when asked for by TPMLIB_VolatileAll_Store, which this engine never calls; Shutdown(STATE) keeps
/// its state inside <c>permall</c>.
/// </summary>
/// <remarks>libtpms holds one TPM per process: at most one instance exists at a time (a second constructor throws
/// until the first is disposed). Not thread-safe: the owner calls it under one lock; the callbacks run on the
/// calling thread inside <see cref="Libtpms.Process"/> and <see cref="Libtpms.MainInit"/>.</remarks>
public sealed unsafe class LibtpmsEngine : VtpmEngine
{
    /// <summary>"FPLT" (little-endian u32), then a u32 version, then libtpms's permall blob: what the store keeps.</summary>
    internal const uint PersistentMagic = 0x544C5046;
    private const uint PersistentVersion = 1;
    private const int PersistentHeader = 8;

    /// <summary>"FPTP" (big-endian u32): the first bytes of state the retired managed engine wrote.</summary>
    private const uint ManagedEngineMagic = 0x46505450;

    /// <summary>libtpms's NV is 128 KiB in 0.9; a blob far beyond that is not one of ours.</summary>
    private const int MaxBlob = 4 * 1024 * 1024;

    private static readonly Lock s_gate = new();
    private static LibtpmsEngine? s_active;
    private static bool s_callbacksRegistered;

    private readonly Action<byte[]>? _persist;
    private byte[]? _permall;
    private byte* _response;
    private uint _responseCapacity;
    private byte _locality;
    private bool _running;
    private bool _initPending;
    private bool _disposed;
    private Exception? _callbackFailure;

    /// <param name="persistent">A blob from <see cref="SerializePersistent"/>, or null to manufacture a TPM.</param>
    /// <param name="persist">Called with the new persistent blob whenever libtpms stores its NV.</param>
    /// <exception cref="InvalidDataException">The blob is not ours (the managed engine's is named as such) or libtpms refuses it.</exception>
    public LibtpmsEngine(byte[]? persistent, Action<byte[]>? persist)
    {
        _permall = persistent is null ? null : Unwrap(persistent);
        _persist = persist;
        lock (s_gate)
        {
            if (s_active is not null)
            {
                throw new InvalidOperationException("libtpms holds one TPM per process and it is in use by another engine");
            }

            s_active = this;
        }

        try
        {
            RegisterCallbacks();
            Check(Libtpms.ChooseTpmVersion(Libtpms.TpmVersion2), "TPMLIB_ChooseTPMVersion(2)");
            Init();
        }
        catch
        {
            Release();
            throw;
        }
    }

    public override byte Locality
    {
        get => _locality;
        set => _locality = value;
    }

    /// <summary>The permanent state only: libtpms's volatile blob holds the TPM clock, which two replicas never share.</summary>
    public override bool DigestCoversAllState => false;

    /// <summary>libtpms's library version (major &lt;&lt; 16 | minor &lt;&lt; 8 | micro).</summary>
    public static uint LibraryVersion => Libtpms.GetVersion();

    public override void PowerOn()
    {
        Stop();
        Init();
    }

    public override int Execute(ReadOnlySpan<byte> command, Span<byte> response)
    {
        if (command.Length < TpmConstants.HeaderSize || command.Length > TpmConstants.MaxCommandSize)
        {
            return Bare(response, command.Length < TpmConstants.HeaderSize ? TpmRc.BadTag : TpmRc.Failure);
        }

        EnsureRunning();

        uint size = 0;
        uint rc;
        fixed (byte* pointer = command)
        {
            byte* responseBuffer = _response;
            uint capacity = _responseCapacity;
            rc = Libtpms.Process(&responseBuffer, &size, &capacity, pointer, (uint)command.Length);
            _response = responseBuffer;
            _responseCapacity = capacity;
        }

        if (_callbackFailure is { } failure)
        {
            // The persist callback threw: nothing may be acknowledged that was not handed to the store.
            _callbackFailure = null;
            FailureObserved?.Invoke(failure);
            return Bare(response, TpmRc.Failure);
        }

        if (rc != Libtpms.Success || size < TpmConstants.HeaderSize || size > (uint)response.Length || _response is null)
        {
            FailureObserved?.Invoke(new InvalidOperationException($"TPMLIB_Process returned 0x{rc:x} with a {size}-byte response"));
            return Bare(response, TpmRc.Failure);
        }

        new ReadOnlySpan<byte>(_response, (int)size).CopyTo(response);
        return (int)size;
    }

    public override byte[] SerializePersistent()
    {
        EnsureRunning();
        return Wrap(GetState(Libtpms.StatePermanent));
    }

    public override byte[] SerializeState()
    {
        EnsureRunning();
        return GetState(Libtpms.StateVolatile);
    }

    /// <summary>Resumes the TPM from a volatile blob of a TPM holding the same permanent state (a migration: the
    /// permanent blob was set first): stop, hand libtpms both, init.</summary>
    public override void RestoreState(byte[] blob)
    {
        if (blob.Length is 0 or > MaxBlob)
        {
            throw new InvalidDataException($"a {blob.Length}-byte volatile blob");
        }

        if (!_initPending)
        {
            // Running: libtpms takes state only while stopped, and a volatile blob only on top of a permanent one.
            byte[] permanent = _running ? GetState(Libtpms.StatePermanent) : _permall ?? throw new InvalidDataException("no permanent state to resume the volatile blob on");
            Stop();
            SetState(Libtpms.StatePermanent, permanent);
        }

        // After WithPersistent the permanent blob is already set: one MainInit for the whole migration.
        SetState(Libtpms.StateVolatile, blob);
        Init();
    }

    public override VtpmEngine WithPersistent(byte[] persistent)
    {
        byte[] permall = Unwrap(persistent);
        Stop();
        SetState(Libtpms.StatePermanent, permall);
        _permall = permall;

        // Started by the next command, power cycle or volatile blob (a migration sets one next): one MainInit.
        _initPending = true;
        return this;
    }

    /// <summary>SHA-256 of the permanent state without its copy of the orderly data: libtpms writes that copy (the
    /// TPM clock and the DRBG state) into NV every 4.096 s of TPM clock, at whichever command each replica runs
    /// when its own clock crosses the boundary, so two replicas in lockstep differ there by their clocks. The live
    /// DRBG and clock are volatile state (compared through the responses), and Startup, which reads the copy back,
    /// is always handed over from the master.</summary>
    public override byte[] StateDigest()
    {
        EnsureRunning();
        return DigestWithoutOrderlyData(GetState(Libtpms.StatePermanent));
    }

    /// <summary>Whether two wrapped permanent blobs differ only inside the marshalled ORDERLY_DATA (the clock and
    /// DRBG copy libtpms refreshes every 4.096 s of TPM clock): same length, same section bounds, equal elsewhere.
    /// False for anything else, the managed engine's blobs included.</summary>
    internal static bool OnlyOrderlyDataDiffers(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        if (before.Length != after.Length || !IsOurs(before) || !IsOurs(after))
        {
            return false;
        }

        (int start, int end) = OrderlySection(after);
        return start >= 0 && OrderlySection(before) == (start, end)
            && before[..start].SequenceEqual(after[..start]) && before[end..].SequenceEqual(after[end..]);
    }

    /// <summary>Where the ORDERLY_DATA section lies (from its version field to the next section's), or (-1, -1).</summary>
    private static (int Start, int End) OrderlySection(ReadOnlySpan<byte> blob)
    {
        int orderly = blob.IndexOf((ReadOnlySpan<byte>)[0x56, 0x65, 0x78, 0x87]);
        if (orderly < 2)
        {
            return (-1, -1);
        }

        ReadOnlySpan<byte> rest = blob[(orderly + 4)..];
        int resetData = rest.IndexOf((ReadOnlySpan<byte>)[0x01, 0x10, 0x23, 0x32]);
        int indexRam = rest.IndexOf((ReadOnlySpan<byte>)[0x53, 0x46, 0xfe, 0xab]);
        int next = resetData >= 0 && (indexRam < 0 || resetData < indexRam) ? resetData : indexRam;
        return next >= 2 ? (orderly - 2, orderly + 4 + next - 2) : (-1, -1);
    }

    /// <summary>Hashes <paramref name="permall"/> minus the marshalled ORDERLY_DATA (its version and magic
    /// 0x56657887 up to the next section's version and magic: STATE_RESET_DATA 0x01102332 or INDEX_ORDERLY_RAM
    /// 0x5346feab); the whole blob when those markers are not found.</summary>
    internal static byte[] DigestWithoutOrderlyData(ReadOnlySpan<byte> permall)
    {
        int orderly = permall.IndexOf((ReadOnlySpan<byte>)[0x56, 0x65, 0x78, 0x87]);
        if (orderly >= 2)
        {
            ReadOnlySpan<byte> rest = permall[(orderly + 4)..];
            int resetData = rest.IndexOf((ReadOnlySpan<byte>)[0x01, 0x10, 0x23, 0x32]);
            int indexRam = rest.IndexOf((ReadOnlySpan<byte>)[0x53, 0x46, 0xfe, 0xab]);
            int next = resetData >= 0 && (indexRam < 0 || resetData < indexRam) ? resetData : indexRam;
            if (next >= 2)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                hash.AppendData(permall[..(orderly - 2)]);
                hash.AppendData(rest[(next - 2)..]);
                return hash.GetHashAndReset();
            }
        }

        return SHA256.HashData(permall);
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop();
        if (_response is not null)
        {
            NativeMemory.Free(_response);
            _response = null;
        }

        Release();
    }

    /// <summary>Whether <paramref name="persistent"/> was written by this engine (else: the managed engine's, or not a vTPM state).</summary>
    internal static bool IsOurs(ReadOnlySpan<byte> persistent) =>
        persistent.Length > PersistentHeader && BinaryPrimitives.ReadUInt32LittleEndian(persistent) == PersistentMagic;

    private static byte[] Unwrap(byte[] persistent)
    {
        if (!IsOurs(persistent))
        {
            throw new InvalidDataException(persistent.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(persistent) == ManagedEngineMagic
                ? "state written by the earlier managed engine (FPTP), which is retired; libtpms cannot read it (keep this file, start with an empty state directory)"
                : "not a libtpms state blob");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(persistent.AsSpan(4));
        if (version != PersistentVersion || persistent.Length > MaxBlob)
        {
            throw new InvalidDataException($"libtpms state blob version {version}, {persistent.Length} bytes (this build reads version {PersistentVersion})");
        }

        return persistent[PersistentHeader..];
    }

    private static byte[] Wrap(ReadOnlySpan<byte> permall)
    {
        byte[] blob = new byte[PersistentHeader + permall.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, PersistentMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), PersistentVersion);
        permall.CopyTo(blob.AsSpan(PersistentHeader));
        return blob;
    }

    private void EnsureRunning()
    {
        if (!_running)
        {
            Init();
        }
    }

    private void Init()
    {
        _initPending = false;
        uint rc = Libtpms.MainInit();
        if (rc != Libtpms.Success)
        {
            throw new InvalidDataException($"libtpms refused to start from the given state (TPMLIB_MainInit 0x{rc:x})");
        }

        _running = true;
        if (_callbackFailure is { } failure)
        {
            _callbackFailure = null;
            throw new IOException("the manufactured or loaded state could not be handed to the store", failure);
        }
    }

    private void Stop()
    {
        if (_running)
        {
            Libtpms.Terminate();
            _running = false;
        }
    }

    private byte[] GetState(int type)
    {
        byte* buffer = null;
        uint length = 0;
        uint rc = Libtpms.GetState(type, &buffer, &length);
        try
        {
            if (rc != Libtpms.Success || (buffer is null && length != 0) || length > MaxBlob)
            {
                throw new InvalidOperationException($"TPMLIB_GetState({type}) returned 0x{rc:x}");
            }

            return buffer is null ? [] : new ReadOnlySpan<byte>(buffer, (int)length).ToArray();
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    private static void SetState(int type, byte[] blob)
    {
        fixed (byte* pointer = blob)
        {
            uint rc = Libtpms.SetState(type, pointer, (uint)blob.Length);
            if (rc != Libtpms.Success)
            {
                throw new InvalidDataException($"libtpms refused the {(type == Libtpms.StatePermanent ? "permanent" : "volatile")} state blob (TPMLIB_SetState 0x{rc:x})");
            }
        }
    }

    private void Release()
    {
        lock (s_gate)
        {
            if (ReferenceEquals(s_active, this))
            {
                s_active = null;
            }
        }
    }

    private static int Bare(Span<byte> response, uint code)
    {
        BinaryPrimitives.WriteUInt16BigEndian(response, TpmConstants.StNoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], TpmConstants.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], code);
        return TpmConstants.HeaderSize;
    }

    private static void Check(uint rc, string call)
    {
        if (rc != Libtpms.Success)
        {
            throw new InvalidOperationException($"{call} returned 0x{rc:x}");
        }
    }

    private static void RegisterCallbacks()
    {
        if (s_callbacksRegistered)
        {
            return;
        }

        Libtpms.Callbacks callbacks = new()
        {
            SizeOfStruct = sizeof(Libtpms.Callbacks),
            NvramInit = &NvramInit,
            NvramLoadData = &NvramLoadData,
            NvramStoreData = &NvramStoreData,
            NvramDeleteName = &NvramDeleteName,
            IoInit = &IoInit,
            IoGetLocality = &IoGetLocality,
            IoGetPhysicalPresence = &IoGetPhysicalPresence,
        };
        Check(Libtpms.RegisterCallbacks(&callbacks), "TPMLIB_RegisterCallbacks");
        s_callbacksRegistered = true;
    }

    private static bool IsPermall(byte* name) =>
        name is not null && MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name).SequenceEqual("permall"u8);

    [UnmanagedCallersOnly]
    private static uint NvramInit() => Libtpms.Success;

    [UnmanagedCallersOnly]
    private static uint IoInit() => Libtpms.Success;

    /// <summary>libtpms asks for a stored blob: permall is the one this engine holds; nothing else is kept, and
    /// TPM_RETRY says "none" (for permall: manufacture).</summary>
    [UnmanagedCallersOnly]
    private static uint NvramLoadData(byte** data, uint* length, uint tpmNumber, byte* name)
    {
        *data = null;
        *length = 0;
        byte[]? permall = s_active?._permall;
        if (!IsPermall(name) || permall is null)
        {
            return Libtpms.Retry;
        }

        // libtpms frees it with free().
        byte* copy = (byte*)NativeMemory.Alloc((nuint)permall.Length);
        permall.CopyTo(new Span<byte>(copy, permall.Length));
        *data = copy;
        *length = (uint)permall.Length;
        return Libtpms.Success;
    }

    /// <summary>libtpms stores its NV (permall) at the end of a command that changed it: handed to the owner's
    /// persist callback (the durable store's group commit) before the response leaves TPMLIB_Process.</summary>
    [UnmanagedCallersOnly]
    private static uint NvramStoreData(byte* data, uint length, uint tpmNumber, byte* name)
    {
        LibtpmsEngine? engine = s_active;
        if (engine is null || !IsPermall(name))
        {
            return Libtpms.Success;
        }

        if (length > MaxBlob || data is null)
        {
            return Libtpms.Fail;
        }

        try
        {
            var permall = new ReadOnlySpan<byte>(data, (int)length);
            if (engine._permall is { } held && permall.SequenceEqual(held))
            {
                // MainInit commits the NV it just loaded: nothing new for the disk.
                return Libtpms.Success;
            }

            engine._permall = permall.ToArray();
            engine._persist?.Invoke(Wrap(permall));
            return Libtpms.Success;
        }
        catch (Exception exception)
        {
            engine._callbackFailure = exception;
            return Libtpms.Fail;
        }
    }

    [UnmanagedCallersOnly]
    private static uint NvramDeleteName(uint tpmNumber, byte* name, byte mustExist) => Libtpms.Success;

    [UnmanagedCallersOnly]
    private static uint IoGetLocality(uint* locality, uint tpmNumber)
    {
        *locality = s_active?._locality ?? 0;
        return Libtpms.Success;
    }

    [UnmanagedCallersOnly]
    private static uint IoGetPhysicalPresence(byte* physicalPresence, uint tpmNumber)
    {
        *physicalPresence = 0;
        return Libtpms.Success;
    }
}
