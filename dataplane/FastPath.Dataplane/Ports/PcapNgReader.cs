using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// pcapng: a sequence of sections (SHB), each declaring interfaces (IDB) and carrying packets
/// (EPB, SPB, and the obsolete PB). Unknown blocks are skipped by their length.
/// </summary>
/// <remarks>Not thread-safe (see <see cref="CaptureReader"/>).</remarks>
internal sealed class PcapNgReader : CaptureReader
{
    internal const uint SectionHeaderBlockType = 0x0A0D0D0A;
    internal const uint InterfaceDescriptionBlockType = 1;
    internal const uint ObsoletePacketBlockType = 2;
    internal const uint SimplePacketBlockType = 3;
    internal const uint EnhancedPacketBlockType = 6;
    internal const uint ByteOrderMagic = 0x1A2B3C4D;
    internal const ushort OptionEnd = 0;
    internal const ushort OptionTsResol = 9;
    internal const ushort OptionTsOffset = 14;

    // Interfaces of the current section; grows only when a file declares more interfaces, never per packet.
    private readonly List<Interface> _interfaces = [];
    private bool _swapped;
    private long _offset;
    private CaptureFormat _format = new(CaptureFileKind.PcapNg, Nanoseconds: false);

    internal PcapNgReader(string path, SafeFileHandle file, long length)
        : base(path, file, length)
    {
        // The first block must be a section header; reading up to the first interface now makes
        // Format known before any packet is returned.
        ReadSectionHeader(0);
        while (_interfaces.Count == 0 && Length - _offset >= 4 && !IsPacketBlock(U32(_offset)))
        {
            TryReadBlock(out _);
        }
    }

    public override CaptureFormat Format => _format;

    public override bool TryReadNext(out CapturedPacket packet)
    {
        while (_offset < Length)
        {
            if (TryReadBlock(out packet))
            {
                PacketsRead++;
                return true;
            }
        }

        packet = default;
        return false;
    }

    // Reads one block at _offset and moves past it; true when it was a packet (then `packet` is set).
    private bool TryReadBlock(out CapturedPacket packet)
    {
        packet = default;
        long block = _offset;
        if (Length - block < 12)
        {
            throw Error(block, $"truncated block header ({Length - block} bytes left)");
        }

        // The section header type reads the same in either byte order, so the current section's order decides.
        uint type = U32(block);
        if (type == SectionHeaderBlockType)
        {
            ReadSectionHeader(block);
            return false;
        }

        uint totalLength = U32(block + 4);
        CheckBlockLength(block, totalLength);

        long body = block + 8;
        long bodyLength = totalLength - 12;
        bool isPacket = IsPacketBlock(type);
        switch (type)
        {
            case InterfaceDescriptionBlockType:
                ReadInterface(block, body, bodyLength);
                break;
            case EnhancedPacketBlockType:
                packet = ReadEnhancedPacket(block, body, bodyLength);
                break;
            case SimplePacketBlockType:
                packet = ReadSimplePacket(block, body, bodyLength);
                break;
            case ObsoletePacketBlockType:
                packet = ReadObsoletePacket(block, body, bodyLength);
                break;
            default:
                break; // Name resolution, statistics, custom and unknown blocks carry nothing we forward.
        }

        _offset = block + totalLength;
        return isPacket;
    }

    private static bool IsPacketBlock(uint type) =>
        type is EnhancedPacketBlockType or SimplePacketBlockType or ObsoletePacketBlockType;

    private void ReadSectionHeader(long block)
    {
        if (Length - block < 28)
        {
            throw Error(block, $"truncated section header block ({Length - block} of 28 bytes)");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(block + 8, 4));
        _swapped = magic switch
        {
            ByteOrderMagic => false,
            0x4D3C2B1A => true,
            _ => throw Error(block + 8, $"bad byte-order magic 0x{magic:x8} in section header"),
        };

        ushort major = U16(block + 12);
        if (major != 1)
        {
            throw Error(block + 12, $"unsupported pcapng version {major}.{U16(block + 14)}");
        }

        uint totalLength = U32(block + 4);
        CheckBlockLength(block, totalLength);
        _interfaces.Clear();
        _offset = block + totalLength;
    }

    private void ReadInterface(long block, long body, long bodyLength)
    {
        if (bodyLength < 8)
        {
            throw Error(block, "interface description block too short");
        }

        ushort linkType = U16(body);
        uint snapLength = U32(body + 4);
        long unitsPerSecond = 1_000_000; // Default if_tsresol is 6 (microseconds).
        int binaryExponent = -1;
        long offsetSeconds = 0;
        bool nanoseconds = false;

        long option = body + 8;
        long end = body + bodyLength;
        while (end - option >= 4)
        {
            ushort code = U16(option);
            ushort length = U16(option + 2);
            long value = option + 4;
            if (code == OptionEnd)
            {
                break;
            }

            if (end - value < length)
            {
                throw Error(option, $"option {code} runs past its block");
            }

            if (code == OptionTsResol && length >= 1)
            {
                byte resolution = Bytes(value, 1)[0];
                if ((resolution & 0x80) == 0)
                {
                    if (resolution > 18)
                    {
                        throw Error(value, $"if_tsresol 10^-{resolution} out of range");
                    }

                    unitsPerSecond = 1;
                    for (int i = 0; i < resolution; i++)
                    {
                        unitsPerSecond *= 10;
                    }

                    nanoseconds = resolution > 6;
                }
                else
                {
                    binaryExponent = resolution & 0x7F;
                    if (binaryExponent > 62)
                    {
                        throw Error(value, $"if_tsresol 2^-{binaryExponent} out of range");
                    }

                    unitsPerSecond = 1L << binaryExponent;
                    nanoseconds = binaryExponent > 20;
                }
            }
            else if (code == OptionTsOffset && length >= 8)
            {
                offsetSeconds = (long)U64(value);
            }

            option = value + ((length + 3) & ~3);
        }

        if (_interfaces.Count == 0)
        {
            _format = new CaptureFormat(CaptureFileKind.PcapNg, nanoseconds,
                snapLength is > 0 and <= CaptureFormat.MaxSnapLength ? (int)snapLength : CaptureFormat.MaxSnapLength);
        }

        _interfaces.Add(new Interface(linkType, snapLength, unitsPerSecond, offsetSeconds, block));
    }

    private CapturedPacket ReadEnhancedPacket(long block, long body, long bodyLength)
    {
        if (bodyLength < 20)
        {
            throw Error(block, "enhanced packet block too short");
        }

        Interface nic = InterfaceFor(block, U32(body));
        ulong units = ((ulong)U32(body + 4) << 32) | U32(body + 8);
        uint capLength = U32(body + 12);
        uint originalLength = U32(body + 16);
        CheckCapLength(block, body + 12, capLength, bodyLength - 20);
        long nanoseconds = Nanoseconds(nic, units, body + 4);
        return new CapturedPacket(Bytes(body + 20, (int)capLength), nanoseconds, ClampLength(originalLength), block);
    }

    private CapturedPacket ReadSimplePacket(long block, long body, long bodyLength)
    {
        if (bodyLength < 4)
        {
            throw Error(block, "simple packet block too short");
        }

        Interface nic = InterfaceFor(block, 0);
        uint originalLength = U32(body);

        // SPB has no caplen: it is the original length cut to the interface's snap length and the block.
        long capLength = Math.Min(originalLength, bodyLength - 4);
        if (nic.SnapLength > 0)
        {
            capLength = Math.Min(capLength, nic.SnapLength);
        }

        CheckCapLength(block, body, (uint)capLength, bodyLength - 4);
        return new CapturedPacket(Bytes(body + 4, (int)capLength), 0, ClampLength(originalLength), block);
    }

    private CapturedPacket ReadObsoletePacket(long block, long body, long bodyLength)
    {
        if (bodyLength < 20)
        {
            throw Error(block, "packet block too short");
        }

        Interface nic = InterfaceFor(block, U16(body));
        ulong units = ((ulong)U32(body + 4) << 32) | U32(body + 8);
        uint capLength = U32(body + 12);
        uint originalLength = U32(body + 16);
        CheckCapLength(block, body + 12, capLength, bodyLength - 20);
        long nanoseconds = Nanoseconds(nic, units, body + 4);
        return new CapturedPacket(Bytes(body + 20, (int)capLength), nanoseconds, ClampLength(originalLength), block);
    }

    private Interface InterfaceFor(long block, uint id)
    {
        if (id >= (uint)_interfaces.Count)
        {
            throw Error(block, $"packet names interface {id} but the section declares {_interfaces.Count}");
        }

        Interface nic = _interfaces[(int)id];
        if (nic.LinkType != CaptureFormat.LinkTypeEthernet)
        {
            throw Error(block, $"interface {id} (block at {nic.BlockOffset}) has link type {nic.LinkType}, not Ethernet ({CaptureFormat.LinkTypeEthernet})");
        }

        return nic;
    }

    private void CheckBlockLength(long block, uint totalLength)
    {
        if (totalLength < 12 || (totalLength & 3) != 0)
        {
            throw Error(block + 4, $"bad block length {totalLength}");
        }

        if (totalLength > Length - block)
        {
            throw Error(block, $"truncated block: length {totalLength} but {Length - block} bytes left");
        }

        uint trailer = U32(block + totalLength - 4);
        if (trailer != totalLength)
        {
            throw Error(block + totalLength - 4, $"block length trailer {trailer} does not match header {totalLength}");
        }
    }

    private void CheckCapLength(long block, long field, uint capLength, long room)
    {
        if (capLength > CaptureFormat.MaxSnapLength)
        {
            throw Error(field, $"absurd caplen {capLength} (limit {CaptureFormat.MaxSnapLength})");
        }

        if (capLength > room)
        {
            throw Error(block, $"caplen {capLength} runs past its block ({room} bytes of data)");
        }
    }

    private long Nanoseconds(Interface nic, ulong units, long field) =>
        nic.TryToNanoseconds(units, out long nanoseconds)
            ? nanoseconds
            : throw Error(field, $"timestamp {units} at {nic.UnitsPerSecond} units per second (plus if_tsoffset {nic.OffsetSeconds} s) is outside what nanoseconds since 1970 can hold (1970 to 2262)");

    private static int ClampLength(uint length) => (int)Math.Min(length, int.MaxValue);

    private ushort U16(long offset)
    {
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(Bytes(offset, 2));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    private uint U32(long offset)
    {
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(offset, 4));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    private ulong U64(long offset)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(Bytes(offset, 8));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    private readonly record struct Interface(ushort LinkType, uint SnapLength, long UnitsPerSecond, long OffsetSeconds, long BlockOffset)
    {
        /// <summary>Nanoseconds since 1970, or false when the time does not fit in a signed 64-bit count of them
        /// (before 1970 through a negative if_tsoffset, or after the year 2262: a coarse if_tsresol such as 10^0 with a large timestamp, or a huge if_tsoffset).</summary>
        public bool TryToNanoseconds(ulong units, out long nanoseconds)
        {
            // Split into whole seconds and a remainder so that 2^-n and 10^-n resolutions convert without overflow.
            ulong perSecond = (ulong)UnitsPerSecond;
            Int128 seconds = (Int128)(units / perSecond) + OffsetSeconds;
            ulong remainder = units % perSecond;
            ulong fraction = (ulong)(((UInt128)remainder * 1_000_000_000UL) / perSecond);
            Int128 total = (seconds * 1_000_000_000) + fraction;
            bool fits = total >= 0 && total <= long.MaxValue;
            nanoseconds = fits ? (long)total : 0;
            return fits;
        }
    }
}
