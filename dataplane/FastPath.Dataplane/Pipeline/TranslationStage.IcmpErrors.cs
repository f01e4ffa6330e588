using System.Runtime.CompilerServices;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

// ICMP and ICMPv6 errors: the quoted packet is translated by the mirror of the contract, because it travels the
// other way. User → secure (tenant T): the quoted destination is a user address of T and must map, the quoted
// source maps if (T, source) has a mapping. Secure → user: the quoted source must map back to a user address of the
// outer packet's tenant, the quoted destination maps back if it belongs to that tenant. A quote naming an address of
// the other environment is never forwarded: no mapping drops the whole message.
public sealed unsafe partial class TranslationStage
{
    /// <summary>
    /// Finishes the ICMP errors the main loop deferred (positions in <c>_pending</c>): the quote first, while the
    /// parser's offsets still hold, then the same outer rewrite as every other packet.
    /// </summary>
    /// <remarks>
    /// Out of line and scalar: errors are rare, and the two single-key lookups per error here would only lengthen the
    /// bulk path.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RewriteIcmp(ref FrameView frame0, ref PacketMeta meta0, int deferred, bool toSecure)
    {
        ref int pending0 = ref _pending[0];
        ref int deferred0 = ref _deferred[0];
        ref MappingResult primary0 = ref _primary[0];
        ref MappingResult secondary0 = ref _secondary[0];
        for (int j = 0; j < deferred; j++)
        {
            int k = Unsafe.Add(ref deferred0, j);
            int i = Unsafe.Add(ref pending0, k);
            ref PacketMeta m = ref Unsafe.Add(ref meta0, i);
            ref FrameView frame = ref Unsafe.Add(ref frame0, i);
            ref MappingResult primary = ref Unsafe.Add(ref primary0, k);
            DropReason quote = TranslateQuote(frame.Data, m, primary.Tenant, toSecure);
            if (quote != DropReason.None)
            {
                m.Verdict = quote;
                continue;
            }

            RewriteOne(ref frame, ref m, in primary, in Unsafe.Add(ref secondary0, k), toSecure);
        }
    }

    /// <summary>
    /// Translates the quote of an ICMP / ICMPv6 error (<see cref="IcmpErrorQuote.IsError"/> holds) in place; returns the
    /// reason to drop the message, <see cref="DropReason.None"/> to go on with the outer header.
    /// </summary>
    /// <remarks>
    /// <paramref name="tenant"/> is the outer secure → user lookup's tenant; towards the secure side the tenant comes
    /// from the frame's tag (already checked to be at most 4094 when the keys were collected).
    /// </remarks>
    private DropReason TranslateQuote(byte* data, in PacketMeta m, ushort tenant, bool toSecure)
    {
        DropReason located = IcmpErrorQuote.Locate(data, m, out QuotedPacket quote);
        if (located != DropReason.None)
        {
            return located;
        }

        byte family = m.IpVersion;
        byte* addresses = stackalloc byte[32];
        byte* newSource = null;
        byte* newDestination = null;
        MappingResult result;
        if (toSecure)
        {
            ushort userTenant = (m.Flags & PacketFlags.Vlan) != 0 ? m.VlanId : (ushort)0;
            MappingKey destination = MappingKey.FromPacket(userTenant, data + quote.DestinationOffset, family);
            if (!_table.TryLookupUser(in destination, out result))
            {
                return DropReason.NoMapping;
            }

            newDestination = addresses;
            result.WriteAddress(newDestination);
            MappingKey source = MappingKey.FromPacket(userTenant, data + quote.SourceOffset, family);
            if (_table.TryLookupUser(in source, out result))
            {
                newSource = addresses + 16;
                result.WriteAddress(newSource);
            }
        }
        else
        {
            // Secure addresses are unique across tenants, so the reverse keys carry tenant 0 (as in CollectKeys).
            MappingKey source = MappingKey.FromPacket(0, data + quote.SourceOffset, family);
            if (!_table.TryLookupSecure(in source, out result) || result.Tenant != tenant)
            {
                return DropReason.NoMapping;
            }

            newSource = addresses;
            result.WriteAddress(newSource);
            MappingKey destination = MappingKey.FromPacket(0, data + quote.DestinationOffset, family);
            if (_table.TryLookupSecure(in destination, out result) && result.Tenant == tenant)
            {
                newDestination = addresses + 16;
                result.WriteAddress(newDestination);
            }
        }

        IcmpErrorQuote.Apply(data, m, quote, newSource, newDestination);
        return DropReason.None;
    }
}
