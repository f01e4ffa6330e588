using System.Buffers.Binary;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>Generated frames for differential and guard-page tests: every layer combination, random bytes, mutations.</summary>
/// <remarks>Thread-safe: every method builds new arrays; randomness comes from a seed the caller passes.</remarks>
internal static class TestCorpus
{
    /// <summary>Every combination of tag, IP version, IPv4 options, IPv6 extensions, fragment state, transport, payload and padding.</summary>
    public static IEnumerable<TestFrame> Combinations()
    {
        TagMode[] tags = Enum.GetValues<TagMode>();
        FragmentState[] fragments = Enum.GetValues<FragmentState>();
        (byte Protocol, int TcpOptions)[] transports = [(17, 0), (6, 0), (6, 12), (1, 0), (58, 0), (47, 0)];
        int[] payloads = [0, 18, 100];
        int[] paddings = [0, 8];
        byte[][] chains = [[], [0], [0, 43, 60], [60, 60, 60, 60, 60, 60, 60], [60, 60, 60, 60, 60, 60, 60, 60]];

        foreach (TagMode tag in tags)
        {
            yield return new TestFrame { Tag = tag, IpVersion = 0 };
            foreach (FragmentState fragment in fragments)
            {
                foreach ((byte protocol, int tcpOptions) in transports)
                {
                    foreach (int payload in payloads)
                    {
                        foreach (int padding in paddings)
                        {
                            var baseFrame = new TestFrame { Tag = tag, Fragment = fragment, Protocol = protocol, TcpOptions = tcpOptions, Payload = payload, Padding = padding };
                            foreach (int options in new[] { 0, 4, 40 })
                            {
                                yield return baseFrame with { IpVersion = 4, Ipv4Options = options };
                            }

                            foreach (byte[] chain in chains)
                            {
                                yield return baseFrame with { IpVersion = 6, Extensions = chain };
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Every combination's bytes, then every proper prefix of each.</summary>
    public static List<byte[]> CombinationsAndTruncations()
    {
        var frames = new List<byte[]>();
        foreach (TestFrame spec in Combinations())
        {
            byte[] frame = spec.Build();
            frames.Add(frame);
            for (int length = 0; length < frame.Length; length++)
            {
                frames.Add(frame[..length]);
            }
        }

        return frames;
    }

    /// <summary>
    /// Random frames biased towards the parser's decisions (EtherTypes, versions, IHL, protocols), and valid frames
    /// with a few bytes changed, half of them with the IPv4 checksum repaired so the mutation reaches the deeper layers.
    /// </summary>
    public static List<byte[]> RandomAndMutated(int seed, int count)
    {
        var random = new Random(seed);
        TestFrame[] combinations = Combinations().ToArray();
        ushort[] etherTypes = [0x0800, 0x86DD, 0x8100, 0x88A8, 0x0806, 0x9100];
        var frames = new List<byte[]>(count);
        for (int n = 0; n < count; n++)
        {
            byte[] frame;
            if (random.Next(2) == 0)
            {
                frame = new byte[random.Next(0, 160)];
                random.NextBytes(frame);
                if (frame.Length >= 20)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherTypes[random.Next(etherTypes.Length)]);
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), etherTypes[random.Next(etherTypes.Length)]);
                    int l3 = frame[13] == 0x00 && frame[12] == 0x81 ? 18 : 14;
                    frame[l3] = (byte)((random.Next(3) == 0 ? 6 : 4) << 4 | random.Next(4, 7));
                }
            }
            else
            {
                TestFrame spec = combinations[random.Next(combinations.Length)];
                frame = spec.Build();
                int changes = random.Next(1, 4);
                for (int c = 0; c < changes; c++)
                {
                    frame[random.Next(Math.Min(frame.Length, 96))] = (byte)random.Next(256);
                }

                if (random.Next(2) == 0 && spec.IpVersion == 4 && spec.Tag is TagMode.None or TagMode.Vlan && frame.Length > spec.L3Offset + 20)
                {
                    RepairIpv4Checksum(frame, spec.L3Offset);
                }

                if (random.Next(4) == 0)
                {
                    frame = frame[..random.Next(frame.Length + 1)];
                }
            }

            frames.Add(frame);
        }

        return frames;
    }

    private static void RepairIpv4Checksum(byte[] frame, int l3)
    {
        int headerLength = (frame[l3] & 0xF) * 4;
        if (headerLength >= 20 && l3 + headerLength <= frame.Length)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 10), TestFrame.Ipv4Checksum(frame.AsSpan(l3, headerLength)));
        }
    }
}
