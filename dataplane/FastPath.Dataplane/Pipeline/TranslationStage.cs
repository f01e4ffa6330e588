using System.Runtime.CompilerServices;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// The per-batch work of a worker, shared with offline translation: parse the batch, drop what cannot be
/// translated, look up every key of the batch in two bulk calls, then rewrite each packet by the
/// ARCHITECTURE.md contract. A frame's start moves by 4 bytes when its VLAN tag is popped or pushed.
/// </summary>
/// <remarks>
/// Order of checks: parser verdict, then TTL (a packet that would expire is dropped before it costs a lookup),
/// then the mapping. Secure→user frames that arrive tagged have their tag replaced by the tenant's, because the
/// tenant, not the substrate, decides the user-side VLAN.
/// Concurrency: one instance per worker thread; the mapping table it reads may be updated concurrently by the
/// control plane (the table's contract). Steady state allocates nothing: all scratch space is sized at construction.
/// </remarks>
public sealed unsafe partial class TranslationStage
{
    /// <summary>Largest batch <see cref="Process"/> accepts.</summary>
    public const int MaxBatch = 256;

    /// <summary>Most guests a secure→user stage routes to (<see cref="PacketMeta.Egress"/> is a byte; 0 is the port).</summary>
    public const int MaxGuests = byte.MaxValue;

    private readonly MappingTable _table;
    private readonly TranslationDirection _direction;
    private readonly bool _setMacs;
    private EgressMacs _egress; // not readonly: Finish takes its address
    private readonly MappingKey[] _primaryKeys = new MappingKey[MaxBatch];
    private readonly MappingKey[] _secondaryKeys = new MappingKey[MaxBatch];
    private readonly MappingResult[] _primary = new MappingResult[MaxBatch];
    private readonly MappingResult[] _secondary = new MappingResult[MaxBatch];
    private readonly int[] _pending = new int[MaxBatch];
    private readonly int[] _deferred = new int[MaxBatch]; // positions in _pending of ICMP errors, finished out of line
    private readonly MappingKey[] _guests;

    /// <summary>A stage translating packets that arrive from <paramref name="direction"/>'s side.</summary>
    /// <param name="table">The mapping table to read.</param>
    /// <param name="direction">Which side the packets arrive on.</param>
    /// <param name="egress">MACs to write on translated frames; null keeps the frames' MACs (offline translation).</param>
    /// <param name="guests">Secure→user only: the user keys (tenant, address) of the guests this stage delivers to. A
    /// packet translated to guest <c>k</c>'s key gets <see cref="PacketMeta.Egress"/> <c>k + 1</c>; every other packet 0.</param>
    public TranslationStage(MappingTable table, TranslationDirection direction, EgressMacs? egress, IReadOnlyList<MappingKey>? guests = null)
    {
        guests ??= [];
        if (guests.Count > MaxGuests || (guests.Count != 0 && direction != TranslationDirection.SecureToUser))
        {
            throw new ArgumentException($"only a secure→user stage routes to guests, at most {MaxGuests}", nameof(guests));
        }

        _table = table;
        _direction = direction;
        _setMacs = egress.HasValue;
        _egress = egress.GetValueOrDefault();
        _guests = [.. guests];
    }

    /// <summary>The table this stage reads; workers register with its epoch.</summary>
    public MappingTable Table => _table;

    /// <summary>The side packets arrive on.</summary>
    public TranslationDirection Direction => _direction;

    /// <summary>
    /// Translates a batch in place: on return <c>meta[i].Verdict</c> says whether frame <c>i</c> may be sent, and
    /// <c>frames[i]</c> holds its new start and length (4 bytes of headroom before each frame are required).
    /// For secure→user packets <c>meta[i].VlanId</c> is the tenant.
    /// </summary>
    public void Process(Span<FrameView> frames, Span<PacketMeta> meta)
    {
        if ((uint)frames.Length > MaxBatch || meta.Length < frames.Length)
        {
            ThrowBadBatch(frames.Length, meta.Length);
        }

        if (frames.IsEmpty)
        {
            return;
        }

        HeaderParser.Parse(frames, meta);

        ref FrameView frame0 = ref frames[0];
        ref PacketMeta meta0 = ref meta[0];
        int pending = CollectKeys(ref frame0, ref meta0, frames.Length);
        if (pending == 0)
        {
            return;
        }

        if (_direction == TranslationDirection.UserToSecure)
        {
            _table.LookupUserBulk(_primaryKeys.AsSpan(0, pending), _primary.AsSpan(0, pending));
            _table.LookupUserBulk(_secondaryKeys.AsSpan(0, pending), _secondary.AsSpan(0, pending));
            Rewrite<ToSecure>(ref frame0, ref meta0, pending);
        }
        else
        {
            _table.LookupSecureBulk(_primaryKeys.AsSpan(0, pending), _primary.AsSpan(0, pending));
            _table.LookupSecureBulk(_secondaryKeys.AsSpan(0, pending), _secondary.AsSpan(0, pending));
            Rewrite<ToUser>(ref frame0, ref meta0, pending);
        }
    }

    // The stages of Process one at a time, for the per-stage cycle budget in bench/ (Pipeline/StageBudget.cs); the
    // worker calls Process, which runs the same private methods without these wrappers.
    internal int CollectKeysForBudget(Span<FrameView> frames, Span<PacketMeta> meta) => CollectKeys(ref frames[0], ref meta[0], frames.Length);

    internal void LookupForBudget(int pending)
    {
        _table.LookupUserBulk(_primaryKeys.AsSpan(0, pending), _primary.AsSpan(0, pending));
        _table.LookupUserBulk(_secondaryKeys.AsSpan(0, pending), _secondary.AsSpan(0, pending));
    }

    internal void RewriteForBudget(Span<FrameView> frames, Span<PacketMeta> meta, int pending) => Rewrite<ToSecure>(ref frames[0], ref meta[0], pending);

    private int CollectKeys(ref FrameView frame0, ref PacketMeta meta0, int count)
    {
        ref int pending0 = ref _pending[0];
        ref MappingKey primary0 = ref _primaryKeys[0];
        ref MappingKey secondary0 = ref _secondaryKeys[0];
        bool toSecure = _direction == TranslationDirection.UserToSecure;
        int pending = 0;
        for (int i = 0; i < count; i++)
        {
            ref PacketMeta m = ref Unsafe.Add(ref meta0, i);
            if (m.Verdict != DropReason.None)
            {
                continue;
            }

            byte* data = Unsafe.Add(ref frame0, i).Data;
            if (data[m.TtlOffset] <= 1)
            {
                m.Verdict = DropReason.TtlExceeded;
                continue;
            }

            // Secure addresses are unique across tenants, so the reverse keys carry tenant 0.
            ushort tenant = toSecure && (m.Flags & PacketFlags.Vlan) != 0 ? m.VlanId : (ushort)0;
            if (tenant > MappingKey.MaxTenant)
            {
                m.Verdict = DropReason.NoMapping;
                continue;
            }

            byte family = m.IpVersion;
            Unsafe.Add(ref primary0, pending) = MappingKey.FromPacket(tenant, data + (toSecure ? m.SourceOffset : m.DestinationOffset), family);
            Unsafe.Add(ref secondary0, pending) = MappingKey.FromPacket(tenant, data + (toSecure ? m.DestinationOffset : m.SourceOffset), family);
            Unsafe.Add(ref pending0, pending) = i;
            pending++;
        }

        return pending;
    }

    /// <summary>
    /// The primary result maps the packet's lookup address (source towards secure, destination towards user); the
    /// secondary one maps the other address, which towards the user side only counts within the same tenant.
    /// </summary>
    /// <remarks>One compiled loop per direction (<typeparamref name="TDirection"/> is a constant to the JIT): with the
    /// direction a run-time flag, both directions' code shared one loop and its registers, and values spilled to the
    /// stack on every packet (issue 18, read in the disassembly).</remarks>
    private void Rewrite<TDirection>(ref FrameView frame0, ref PacketMeta meta0, int pending)
        where TDirection : struct
    {
        bool toSecure = typeof(TDirection) == typeof(ToSecure);
        ref int pending0 = ref _pending[0];
        ref int deferred0 = ref _deferred[0];
        ref MappingResult primary0 = ref _primary[0];
        ref MappingResult secondary0 = ref _secondary[0];
        int deferred = 0;
        for (int k = 0; k < pending; k++)
        {
            int i = Unsafe.Add(ref pending0, k);
            ref PacketMeta m = ref Unsafe.Add(ref meta0, i);
            ref MappingResult primary = ref Unsafe.Add(ref primary0, k);
            if (!primary.Found)
            {
                m.Verdict = DropReason.NoMapping;
                continue;
            }

            // The one check UDP and TCP pay for ICMP errors (echo and other ICMP add a type test). Errors are finished
            // after the loop, out of line, so that the loop makes no call: a call would make every value live across
            // it sit in a callee-saved register or on the stack for all packets.
            if (IcmpErrorQuote.IsError(Unsafe.Add(ref frame0, i).Data, m))
            {
                Unsafe.Add(ref deferred0, deferred++) = k;
                continue;
            }

            RewriteOne(ref Unsafe.Add(ref frame0, i), ref m, in primary, in Unsafe.Add(ref secondary0, k), toSecure);
        }

        if (deferred != 0)
        {
            RewriteIcmp(ref frame0, ref meta0, deferred, toSecure);
        }
    }

    /// <summary>The outer rewrite of one packet whose primary lookup hit: addresses, TTL, checksums, VLAN, MACs.</summary>
    /// <remarks>The new addresses go from the lookup results to the frame in registers, not through a scratch copy.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RewriteOne(ref FrameView frame, ref PacketMeta m, in MappingResult primary, in MappingResult secondary, bool toSecure)
    {
        byte* data = frame.Data;
        int length = frame.Length;
        ushort tenant = primary.Tenant;
        bool other = secondary.Found && (toSecure || secondary.Tenant == tenant);
        if (toSecure)
        {
            HeaderRewriter.Apply(data, m, true, primary.Low, primary.High, other, secondary.Low, secondary.High);
        }
        else
        {
            HeaderRewriter.Apply(data, m, other, secondary.Low, secondary.High, true, primary.Low, primary.High);
        }

        if (!toSecure && _guests.Length != 0)
        {
            m.Egress = GuestEgress(primary.OtherSide);
        }

        if ((m.Flags & PacketFlags.Vlan) != 0)
        {
            data = VlanTag.Pop(data, ref length, ref m);
        }

        if (!toSecure && tenant != 0)
        {
            data = VlanTag.Push(data, ref length, ref m, tenant);
        }

        Finish(ref frame, data, length);
    }

    /// <summary>The egress of a packet translated to <paramref name="user"/>: 1 + the guest that owns that key, or 0 (the port).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte GuestEgress(MappingKey user)
    {
        MappingKey[] guests = _guests;
        for (int g = 0; g < guests.Length; g++)
        {
            if (guests[g].Equals(user))
            {
                return (byte)(g + 1);
            }
        }

        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish(ref FrameView frame, byte* data, int length)
    {
        if (_setMacs)
        {
            fixed (EgressMacs* egress = &_egress)
            {
                HeaderRewriter.SetMacs(data, egress->Source, egress->Destination);
            }
        }

        frame = new FrameView(data, length, frame.Offload);
    }

    /// <summary>Direction marker: packets from the user side, translated towards the secure side.</summary>
    private readonly struct ToSecure;

    /// <summary>Direction marker: packets from the secure side, translated towards the user side.</summary>
    private readonly struct ToUser;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadBatch(int frames, int meta) =>
        throw new ArgumentException($"a batch holds 1-{MaxBatch} frames and as many metadata records (got {frames} frames, {meta} records)");
}
