using System.Buffers.Binary;
using System.Text;
using FastPath.Dataplane;
using FastPath.Dataplane.Capture;

namespace FastPath.Control.Capture;

/// <summary>
/// pcapng for live captures, little-endian: one section header, one interface description per captured direction
/// of the port (<c>if_name</c> "PORT rx" / "PORT tx", <c>if_tsresol</c> 9: nanosecond timestamps), then one enhanced
/// packet block per frame with <c>epb_flags</c> (inbound/outbound) and, for a dropped frame, an <c>opt_comment</c>
/// "drop: REASON" naming its <see cref="DropReason"/>.
/// </summary>
/// <remarks>Stateless.</remarks>
internal static class PcapNgEncoder
{
    private const uint SectionHeader = 0x0A0D0D0A;
    private const uint InterfaceDescription = 1;
    private const uint EnhancedPacket = 6;
    private const ushort LinkTypeEthernet = 1;

    /// <summary>The section header and the interface blocks for <paramref name="session"/>.</summary>
    public static void WriteHeader(Stream output, CaptureSession session)
    {
        var shb = new MemoryStream();
        Span<byte> fixedPart = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[4..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(fixedPart[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[8..], -1); // section length unknown: it is a stream
        shb.Write(fixedPart);
        Option(shb, 4, Encoding.UTF8.GetBytes("FastPath live capture")); // shb_userappl
        EndOfOptions(shb);
        Block(output, SectionHeader, shb.ToArray());

        Span<byte> head = stackalloc byte[8];
        foreach (CaptureDirection direction in Directions(session))
        {
            var idb = new MemoryStream();
            BinaryPrimitives.WriteUInt16LittleEndian(head, LinkTypeEthernet);
            BinaryPrimitives.WriteUInt16LittleEndian(head[2..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)session.SnapLength);
            idb.Write(head);
            Option(idb, 2, Encoding.UTF8.GetBytes($"{session.Port} {(direction == CaptureDirection.Rx ? "rx" : "tx")}")); // if_name
            Option(idb, 9, [9]); // if_tsresol: 10^-9 s
            EndOfOptions(idb);
            Block(output, InterfaceDescription, idb.ToArray());
        }
    }

    /// <summary>One enhanced packet block.</summary>
    public static void WriteFrame(Stream output, CaptureSession session, in CapturedFrame frame)
    {
        var epb = new MemoryStream(frame.Data.Length + 64);
        Span<byte> head = stackalloc byte[20];
        int interfaceId = session.Direction == CaptureDirection.Both && frame.Direction == CaptureDirection.Tx ? 1 : 0;
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)interfaceId);
        ulong timestamp = (ulong)frame.TimestampNanoseconds;
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], (uint)(timestamp >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], (uint)timestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(head[12..], (uint)frame.Data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[16..], (uint)frame.OriginalLength);
        epb.Write(head);
        epb.Write(frame.Data);
        Pad(epb, frame.Data.Length);
        if (frame.Reason != DropReason.None)
        {
            Option(epb, 1, Encoding.UTF8.GetBytes($"drop: {DropReasons.Name(frame.Reason)}")); // opt_comment
        }

        Span<byte> flags = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(flags, frame.Direction == CaptureDirection.Rx ? 1u : 2u); // inbound / outbound
        Option(epb, 2, flags); // epb_flags
        EndOfOptions(epb);
        Block(output, EnhancedPacket, epb.ToArray());
    }

    private static IEnumerable<CaptureDirection> Directions(CaptureSession session) => session.Direction switch
    {
        CaptureDirection.Both => [CaptureDirection.Rx, CaptureDirection.Tx],
        _ => [session.Direction],
    };

    private static void Block(Stream output, uint type, byte[] body)
    {
        Span<byte> word = stackalloc byte[4];
        uint total = (uint)(body.Length + 12);
        BinaryPrimitives.WriteUInt32LittleEndian(word, type);
        output.Write(word);
        BinaryPrimitives.WriteUInt32LittleEndian(word, total);
        output.Write(word);
        output.Write(body);
        output.Write(word);
    }

    private static void Option(Stream block, ushort code, ReadOnlySpan<byte> value)
    {
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(head, code);
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], (ushort)value.Length);
        block.Write(head);
        block.Write(value);
        Pad(block, value.Length);
    }

    private static void EndOfOptions(Stream block) => block.Write([0, 0, 0, 0]);

    private static void Pad(Stream block, int length)
    {
        int padding = (4 - (length & 3)) & 3;
        for (int i = 0; i < padding; i++)
        {
            block.WriteByte(0);
        }
    }
}
