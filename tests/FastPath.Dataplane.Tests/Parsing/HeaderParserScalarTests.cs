using System.Buffers.Binary;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Tests.Infrastructure;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>The scalar twin against hand-computed expectations: it defines what every path must produce.</summary>
public sealed class HeaderParserScalarTests
{
    [Fact]
    public void An_untagged_ipv4_udp_frame_yields_every_offset_and_the_ports()
    {
        var spec = new TestFrame { Payload = 18, SourcePort = 40000, DestinationPort = 53 };
        PacketMeta meta = ParserHarness.Parse(spec.Build());

        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(14, meta.L3Offset);
        Assert.Equal(34, meta.L4Offset);
        Assert.Equal(42, meta.PayloadOffset);
        Assert.Equal(60, meta.PacketEnd);
        Assert.Equal(0, meta.VlanId);
        Assert.Equal(26, meta.SourceOffset);
        Assert.Equal(30, meta.DestinationOffset);
        Assert.Equal(22, meta.TtlOffset);
        Assert.Equal(40, meta.L4ChecksumOffset);
        Assert.Equal(40000, meta.SourcePort);
        Assert.Equal(53, meta.DestinationPort);
        Assert.Equal(4, meta.IpVersion);
        Assert.Equal(17, meta.Protocol);
        Assert.Equal(FragmentState.None, meta.Fragment);
        Assert.Equal(PacketFlags.Transport, meta.Flags);
    }

    [Fact]
    public void A_vlan_ipv6_tcp_frame_with_options_yields_the_tag_and_the_data_offset()
    {
        var spec = new TestFrame { Tag = TagMode.Vlan, VlanId = 4094, IpVersion = 6, Protocol = 6, TcpOptions = 12, Payload = 5, SourcePort = 443, DestinationPort = 51000 };
        PacketMeta meta = ParserHarness.Parse(spec.Build());

        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(PacketFlags.Vlan | PacketFlags.Transport, meta.Flags);
        Assert.Equal(4094, meta.VlanId);
        Assert.Equal(18, meta.L3Offset);
        Assert.Equal(18 + 8, meta.SourceOffset);
        Assert.Equal(18 + 24, meta.DestinationOffset);
        Assert.Equal(18 + 7, meta.TtlOffset);
        Assert.Equal(58, meta.L4Offset);
        Assert.Equal(58 + 16, meta.L4ChecksumOffset);
        Assert.Equal(58 + 32, meta.PayloadOffset);
        Assert.Equal(58 + 32 + 5, meta.PacketEnd);
        Assert.Equal(443, meta.SourcePort);
        Assert.Equal(51000, meta.DestinationPort);
        Assert.Equal(6, meta.IpVersion);
        Assert.Equal(6, meta.Protocol);
    }

    [Fact]
    public void Ipv4_options_move_the_transport_header_and_set_the_flag()
    {
        PacketMeta meta = ParserHarness.Parse(new TestFrame { Ipv4Options = 40 }.Build());
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(14 + 60, meta.L4Offset);
        Assert.Equal(PacketFlags.Ipv4Options | PacketFlags.Transport, meta.Flags);
    }

    [Fact]
    public void Ethernet_padding_is_allowed_and_packet_end_excludes_it()
    {
        var spec = new TestFrame { Payload = 0, Padding = 18 };
        byte[] frame = spec.Build();
        Assert.Equal(60, frame.Length);
        PacketMeta meta = ParserHarness.Parse(frame);
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(42, meta.PacketEnd);
    }

    [Fact]
    public void A_udp_checksum_of_zero_still_gets_its_offset_because_the_rewriter_checks_the_value()
    {
        PacketMeta meta = ParserHarness.Parse(new TestFrame { UdpChecksum = 0 }.Build());
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(40, meta.L4ChecksumOffset);
    }

    [Theory]
    [InlineData(4, (byte)1, 36)]
    [InlineData(6, (byte)58, 56)]
    public void Icmp_of_the_family_gets_a_checksum_offset_and_no_ports(int version, byte protocol, int checksumOffset)
    {
        PacketMeta meta = ParserHarness.Parse(new TestFrame { IpVersion = version, Protocol = protocol }.Build());
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(checksumOffset, meta.L4ChecksumOffset);
        Assert.Equal(checksumOffset + 2, meta.PayloadOffset);
        Assert.Equal(0, meta.SourcePort);
        Assert.Equal(PacketFlags.Transport, meta.Flags & PacketFlags.Transport);
    }

    [Theory]
    [InlineData(4, (byte)47)]
    [InlineData(4, (byte)58)]
    [InlineData(6, (byte)1)]
    [InlineData(6, (byte)47)]
    public void Other_protocols_pass_with_no_checksum_to_update_and_no_ports(int version, byte protocol)
    {
        var spec = new TestFrame { IpVersion = version, Protocol = protocol };
        PacketMeta meta = ParserHarness.Parse(spec.Build());
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(protocol, meta.Protocol);
        Assert.Equal(0, meta.L4ChecksumOffset);
        Assert.Equal(0, meta.SourcePort);
        Assert.Equal(0, meta.DestinationPort);
        Assert.Equal(spec.L4Offset, meta.L4Offset);
        Assert.Equal(spec.L4Offset, meta.PayloadOffset);
        Assert.Equal(PacketFlags.None, meta.Flags);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void A_first_fragment_reads_ports_and_a_non_first_fragment_touches_only_the_ip_header(int version)
    {
        PacketMeta first = ParserHarness.Parse(new TestFrame { IpVersion = version, Fragment = FragmentState.First }.Build());
        Assert.Equal(DropReason.None, first.Verdict);
        Assert.Equal(FragmentState.First, first.Fragment);
        Assert.Equal(40000, first.SourcePort);
        Assert.NotEqual(0, first.L4ChecksumOffset);

        var spec = new TestFrame { IpVersion = version, Fragment = FragmentState.NonFirst };
        PacketMeta later = ParserHarness.Parse(spec.Build());
        Assert.Equal(DropReason.None, later.Verdict);
        Assert.Equal(FragmentState.NonFirst, later.Fragment);
        Assert.Equal(0, later.SourcePort);
        Assert.Equal(0, later.L4ChecksumOffset);
        Assert.Equal(17, later.Protocol);
        Assert.Equal(spec.L4Offset, later.L4Offset);
        Assert.Equal(spec.L4Offset, later.PayloadOffset);
        Assert.NotEqual(0, later.TtlOffset);
    }

    [Fact]
    public void A_fragmented_udp_datagram_is_not_held_to_its_udp_length()
    {
        byte[] frame = new TestFrame { Fragment = FragmentState.First }.Build();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), 1480);
        Assert.Equal(DropReason.None, ParserHarness.Parse(frame).Verdict);
    }

    [Fact]
    public void The_ipv6_chain_is_walked_to_eight_headers_and_a_ninth_is_too_long()
    {
        var eight = new TestFrame { IpVersion = 6, Extensions = [0, 43, 60, 60, 60, 60, 60], Fragment = FragmentState.First };
        PacketMeta meta = ParserHarness.Parse(eight.Build());
        Assert.Equal(DropReason.None, meta.Verdict);
        Assert.Equal(14 + 40 + 64, meta.L4Offset);
        Assert.Equal(FragmentState.First, meta.Fragment);
        Assert.Equal(PacketFlags.Ipv6Extensions | PacketFlags.Transport, meta.Flags);
        Assert.Equal(17, meta.Protocol);

        var nine = eight with { Extensions = [0, 43, 60, 60, 60, 60, 60, 60] };
        Assert.Equal(DropReason.ExtChainTooLong, ParserHarness.Parse(nine.Build()).Verdict);
    }

    [Fact]
    public void Arp_is_not_ip_and_an_outer_802_1ad_or_second_802_1q_tag_is_unsupported()
    {
        Assert.Equal(DropReason.NotIp, ParserHarness.Parse(new TestFrame { IpVersion = 0 }.Build()).Verdict);
        Assert.Equal(DropReason.NotIp, ParserHarness.Parse(new TestFrame { IpVersion = 0, Tag = TagMode.Vlan }.Build()).Verdict);
        Assert.Equal(DropReason.Unsupported, ParserHarness.Parse(new TestFrame { Tag = TagMode.QinQ }.Build()).Verdict);
        Assert.Equal(DropReason.Unsupported, ParserHarness.Parse(new TestFrame { Tag = TagMode.DoubleVlan }.Build()).Verdict);
    }

    [Fact]
    public void A_version_that_disagrees_with_the_ethertype_is_bad_version()
    {
        byte[] v6InV4 = new TestFrame { IpVersion = 6 }.Build();
        v6InV4[12] = 0x08;
        v6InV4[13] = 0x00;
        Assert.Equal(DropReason.BadVersion, ParserHarness.Parse(v6InV4).Verdict);

        byte[] v4InV6 = new TestFrame { IpVersion = 4, Payload = 60 }.Build();
        v4InV6[12] = 0x86;
        v4InV6[13] = 0xDD;
        Assert.Equal(DropReason.BadVersion, ParserHarness.Parse(v4InV6).Verdict);
    }

    [Fact]
    public void Ihl_below_five_is_bad_ihl()
    {
        byte[] frame = new TestFrame().Build();
        frame[14] = 0x44;
        PacketMeta meta = ParserHarness.Parse(frame);
        Assert.Equal(DropReason.BadIhl, meta.Verdict);
        Assert.Equal(26, meta.SourceOffset);
    }

    [Theory]
    [InlineData(19)]
    [InlineData(61)]
    public void A_total_length_below_the_header_or_past_the_frame_is_bad_length(int totalLength)
    {
        byte[] frame = new TestFrame { Payload = 18 }.Build();
        SetIpv4TotalLength(frame, 14, (ushort)totalLength);
        Assert.Equal(DropReason.BadLength, ParserHarness.Parse(frame).Verdict);
    }

    [Fact]
    public void An_ipv6_payload_length_past_the_frame_is_bad_length()
    {
        byte[] frame = new TestFrame { IpVersion = 6 }.Build();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(18), (ushort)(frame.Length - 54 + 1));
        Assert.Equal(DropReason.BadLength, ParserHarness.Parse(frame).Verdict);
    }

    [Fact]
    public void A_wrong_header_checksum_is_bad_checksum()
    {
        byte[] frame = new TestFrame().Build();
        frame[24] ^= 0x01;
        Assert.Equal(DropReason.BadChecksum, ParserHarness.Parse(frame).Verdict);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void A_tcp_data_offset_below_five_or_past_the_packet_is_bad_length(int dataOffsetWords)
    {
        var spec = new TestFrame { Protocol = 6, Payload = 0 };
        byte[] frame = spec.Build();
        frame[spec.L4Offset + 12] = (byte)((dataOffsetWords == 0 ? 6 : dataOffsetWords) << 4);
        Assert.Equal(DropReason.BadLength, ParserHarness.Parse(frame).Verdict);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(27)]
    public void A_udp_length_below_eight_or_past_the_packet_is_bad_length(int udpLength)
    {
        byte[] frame = new TestFrame { Payload = 18 }.Build();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), (ushort)udpLength);
        Assert.Equal(DropReason.BadLength, ParserHarness.Parse(frame).Verdict);
    }

    [Fact]
    public void An_ip_length_that_ends_inside_the_transport_header_is_truncated()
    {
        byte[] frame = new TestFrame { Payload = 0, Padding = 20 }.Build();
        SetIpv4TotalLength(frame, 14, 20 + 7);
        Assert.Equal(DropReason.Truncated, ParserHarness.Parse(frame).Verdict);
    }

    [Fact]
    public void Every_prefix_of_a_valid_frame_is_truncated_or_bad_length_and_never_reads_past_its_end()
    {
        using var guard = new GuardedFrames(256);
        foreach (TestFrame spec in new[]
        {
            new TestFrame { Tag = TagMode.Vlan, Ipv4Options = 8, Protocol = 6, TcpOptions = 8 },
            new TestFrame { IpVersion = 6, Extensions = [0, 60], Protocol = 58 },
        })
        {
            byte[] frame = spec.Build();
            for (int length = 0; length < frame.Length; length++)
            {
                PacketMeta meta = ParserHarness.Parse(guard, frame.AsSpan(0, length));
                DropReason expected = length < spec.L3Offset + (spec.IpVersion == 4 ? spec.Ipv4HeaderLength : 40) ? DropReason.Truncated : DropReason.BadLength;
                Assert.True(expected == meta.Verdict, $"length {length}: {meta.Verdict}");
            }

            Assert.Equal(DropReason.None, ParserHarness.Parse(guard, frame).Verdict);
        }
    }

    [Fact]
    public unsafe void The_remainder_checksum_test_agrees_with_the_rfc_1071_fold()
    {
        var random = new Random(1071);
        byte[] header = new byte[60];
        for (int n = 0; n < 100_000; n++)
        {
            int length = 20 + (4 * random.Next(11));
            random.NextBytes(header);
            header[0] = (byte)(0x40 | (length / 4));
            if (n % 2 == 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), TestFrame.Ipv4Checksum(header.AsSpan(0, length)));
            }

            uint sum = 0;
            for (int i = 0; i < length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(i));
            }

            while (sum > 0xFFFF)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            fixed (byte* p = header)
            {
                Assert.Equal(sum == 0xFFFF, HeaderParser.Ipv4ChecksumValid(p, (uint)length));
            }
        }
    }

    [Fact]
    public void A_metadata_span_shorter_than_the_batch_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => HeaderParser.Parse(ParserPath.Scalar, new FrameView[2], new PacketMeta[1]));
        Assert.Contains("2 frames", error.Message, StringComparison.Ordinal);
    }

    private static void SetIpv4TotalLength(byte[] frame, int l3, ushort totalLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 2), totalLength);
        int headerLength = (frame[l3] & 0xF) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 10), TestFrame.Ipv4Checksum(frame.AsSpan(l3, headerLength)));
    }
}
