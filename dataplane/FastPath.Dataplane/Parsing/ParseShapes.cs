using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Parsing;

/// <summary>
/// The common frame shapes the vector paths recognise with masked compares, and for each (shape, transport)
/// pair the byte-shuffle and constant that build its whole <see cref="PacketMeta"/> in one 32-byte store.
/// </summary>
/// <remarks>
/// Thread-safe: built once by the static constructor, read-only after. A frame that matches no shape, or whose
/// lengths, checksum or transport need a closer look, goes to the scalar twin, which defines the semantics.
/// <para>Shapes: 0 untagged IPv4 (IHL 5, not a fragment), 1 the same behind one 802.1Q tag, 2 untagged IPv6 with
/// no extension header, 3 the same behind one tag. Transports: 0 UDP, 1 TCP, 2 the family's ICMP.</para>
/// </remarks>
internal static unsafe class ParseShapes
{
    public const int ShapeCount = 4;
    public const int TransportCount = 3;
    public const int TemplateCount = ShapeCount * TransportCount;

    /// <summary>Bytes a vector path must be able to load: every shape and template reads inside the first 64.</summary>
    public const int WindowLength = 64;

    /// <summary>Offset of the 16-byte window holding every byte a shape compares (EtherTypes to the IPv4 fragment field).</summary>
    public const int ClassifyOffset = 12;

    private const int MatchStride = 128;
    private const int TemplateStride = 96;

    // Per shape: 64 template bytes, then 64 mask bytes (0 where the shape does not care).
    private static readonly byte* s_match = Build(out s_templates);

    // Per template: 64 shuffle indices (chunk order 0, 2, 1, 3; see ShuffleIndices), then 32 bytes to add.
    private static readonly byte* s_templates;

    /// <summary>Masks VLAN ID to 12 bits (meta byte 9); every other shuffled byte passes.</summary>
    public static readonly byte* AndMask = BuildAndMask();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* MatchTemplate(int shape) => s_match + (shape * MatchStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* MatchMask(int shape) => s_match + (shape * MatchStride) + WindowLength;

    /// <summary>
    /// pshufb indices, four 16-byte rows in chunk order 0, 2, 1, 3: row k (chunk c) picks, for each byte of one metadata
    /// half, a byte of frame chunk c (bytes 16c..16c+15), or 0x80 for zero. Metadata bytes 0–15 come from chunks 0 and 1,
    /// bytes 16–31 from chunks 2 and 3, so one in-lane shuffle per chunk and an OR build the record at every width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* ShuffleIndices(int template) => s_templates + (template * TemplateStride);

    /// <summary>Constant fields of the record, added as 16-bit words (PacketEnd's word holds the bytes before the IP payload).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Constants(int template) => s_templates + (template * TemplateStride) + WindowLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int L3Offset(int shape) => (shape & 1) == 0 ? HeaderParser.EthernetHeaderLength : HeaderParser.EthernetHeaderLength + HeaderParser.VlanTagLength;

    private static byte* Build(out byte* templates)
    {
        byte* match = (byte*)NativeMemory.AlignedAlloc(ShapeCount * MatchStride, 64);
        new Span<byte>(match, ShapeCount * MatchStride).Clear();
        SetMatch(match, 0, (12, 0x08, 0xFF), (13, 0x00, 0xFF), (14, 0x45, 0xFF), (20, 0x00, 0x3F), (21, 0x00, 0xFF));
        SetMatch(match, 1, (12, 0x81, 0xFF), (13, 0x00, 0xFF), (16, 0x08, 0xFF), (17, 0x00, 0xFF), (18, 0x45, 0xFF), (24, 0x00, 0x3F), (25, 0x00, 0xFF));
        SetMatch(match, 2, (12, 0x86, 0xFF), (13, 0xDD, 0xFF), (14, 0x60, 0xF0));
        SetMatch(match, 3, (12, 0x81, 0xFF), (13, 0x00, 0xFF), (16, 0x86, 0xFF), (17, 0xDD, 0xFF), (18, 0x60, 0xF0));

        templates = (byte*)NativeMemory.AlignedAlloc(TemplateCount * TemplateStride, 64);
        for (int shape = 0; shape < ShapeCount; shape++)
        {
            for (int transport = 0; transport < TransportCount; transport++)
            {
                BuildTemplate(templates + ((shape * TransportCount + transport) * TemplateStride), shape, transport);
            }
        }

        return match;
    }

    private static void SetMatch(byte* match, int shape, params ReadOnlySpan<(int Offset, int Value, int Mask)> bytes)
    {
        foreach ((int offset, int value, int mask) in bytes)
        {
            match[(shape * MatchStride) + offset] = (byte)value;
            match[(shape * MatchStride) + WindowLength + offset] = (byte)mask;
        }
    }

    private static void BuildTemplate(byte* template, int shape, int transport)
    {
        bool ipv6 = shape >= 2;
        bool vlan = (shape & 1) != 0;
        int l3 = L3Offset(shape);
        int l4 = l3 + (ipv6 ? HeaderParser.Ipv6HeaderLength : HeaderParser.Ipv4MinHeaderLength);
        byte protocol = transport switch
        {
            0 => HeaderParser.ProtocolUdp,
            1 => HeaderParser.ProtocolTcp,
            _ => ipv6 ? HeaderParser.ProtocolIcmpv6 : HeaderParser.ProtocolIcmp,
        };

        new Span<byte>(template, WindowLength).Fill(0x80);
        PacketMeta constants = default;
        constants.L3Offset = (ushort)l3;
        constants.L4Offset = (ushort)l4;

        // TCP's payload offset depends on its data offset: the caller adds data offset × 4 after the store.
        constants.PayloadOffset = (ushort)(transport switch { 0 => l4 + 8, 1 => l4, _ => l4 + 4 });
        constants.PacketEnd = (ushort)(ipv6 ? l3 + HeaderParser.Ipv6HeaderLength : l3);
        constants.SourceOffset = (ushort)(l3 + (ipv6 ? 8 : 12));
        constants.DestinationOffset = (ushort)(l3 + (ipv6 ? 24 : 16));
        constants.TtlOffset = (ushort)(l3 + (ipv6 ? 7 : 8));
        constants.L4ChecksumOffset = (ushort)(transport switch { 0 => l4 + 6, 1 => l4 + 16, _ => l4 + 2 });
        constants.IpVersion = (byte)(ipv6 ? 6 : 4);
        constants.Protocol = protocol;
        constants.Flags = PacketFlags.Transport | (vlan ? PacketFlags.Vlan : PacketFlags.None);
        *(PacketMeta*)(template + WindowLength) = constants;

        // Big-endian frame fields land little-endian in the record by swapping the byte pair in the shuffle.
        int lengthField = l3 + (ipv6 ? 4 : 2);
        Route(template, 6, lengthField + 1);
        Route(template, 7, lengthField);
        if (vlan)
        {
            Route(template, 8, 15);
            Route(template, 9, 14);
        }

        if (transport < 2)
        {
            Route(template, 18, l4 + 1);
            Route(template, 19, l4);
            Route(template, 20, l4 + 3);
            Route(template, 21, l4 + 2);
        }
    }

    /// <summary>Record byte <paramref name="metaByte"/> takes frame byte <paramref name="frameByte"/>.</summary>
    private static void Route(byte* template, int metaByte, int frameByte)
    {
        int chunk = frameByte / 16;
        if (frameByte >= WindowLength || (metaByte < 16) != (chunk < 2))
        {
            // The table layout depends on this; a shape change that breaks it must fail loudly at startup.
            throw new InvalidOperationException($"record byte {metaByte} cannot take frame byte {frameByte}");
        }

        int row = chunk switch { 0 => 0, 2 => 1, 1 => 2, _ => 3 };
        template[(row * 16) + (metaByte % 16)] = (byte)(frameByte % 16);
    }

    private static byte* BuildAndMask()
    {
        byte* mask = (byte*)NativeMemory.AlignedAlloc(PacketMeta.Size, 64);
        new Span<byte>(mask, PacketMeta.Size).Fill(0xFF);
        mask[9] = 0x0F;
        return mask;
    }
}
