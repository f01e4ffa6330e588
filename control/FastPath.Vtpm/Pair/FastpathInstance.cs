using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>Our own instance (<c>fastpath vtpm instance</c>): TPM commands over <see cref="InstanceWire"/> with the
/// execute flags (durable answer, supplied entropy, next entropy), so RANDOM commands replay the master's entropy
/// in parallel on both; its state digest, flush and entropy are wire ops too; state blobs, locality and power
/// cycle go over its swtpm control socket like a real swtpm's.</summary>
/// <remarks>Thread-safe as <see cref="PairInstance"/>: any number of pooled connections.</remarks>
public sealed class FastpathInstance : PairInstance
{
    private readonly string _executable;
    private readonly IReadOnlyList<string> _prefix;

    /// <param name="executable">The <c>fastpath</c> binary.</param>
    /// <param name="prefix">Its leading arguments (<c>vtpm instance</c>); <c>--state</c>, <c>--socket</c>,
    /// <c>--ctrl</c> and <c>--parent</c> follow.</param>
    public FastpathInstance(string name, string stateDirectory, string executable, IReadOnlyList<string> prefix, TimeSpan timeout)
        : base(name, stateDirectory, timeout, maxLinks: 0)
    {
        _executable = executable;
        _prefix = prefix;
    }

    public override string Kind => "fastpath";

    /// <summary>libtpms draws its own entropy: it cannot replay the master's.</summary>
    public override bool CanReplayEntropy => false;

    /// <summary>libtpms: DRBG lockstep (its DRBG state travels in the volatile blob).</summary>
    public override bool DrbgLockstep => true;

    /// <summary>libtpms's volatile state holds its clock, which two replicas never share.</summary>
    public override bool DigestCoversAllState => false;

    protected override ProcessStartInfo StartInfo(string commandPath, string controlPath)
    {
        var start = new ProcessStartInfo(_executable) { UseShellExecute = false };
        foreach (string argument in _prefix)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string argument in (string[])["--state", StateDirectory, "--socket", commandPath, "--ctrl", controlPath, "--parent", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Ready when the process we started answers a ping with its own PID and its control socket answers.</summary>
    protected override bool IsReady(Process process)
    {
        (byte status, byte[] payload) = Call(InstanceWire.Ping, []);
        if (status != InstanceWire.StatusOk || payload.Length != 4 || BinaryPrimitives.ReadUInt32BigEndian(payload) != (uint)process.Id)
        {
            return false;
        }

        using SwtpmControlClient control = OpenControl();
        return control.GetConfig() == 0;
    }

    private protected override void Write(InstanceConnection link, byte flags, ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> command)
    {
        Span<byte> head = stackalloc byte[1 + InstanceWire.EntropySize];
        head[0] = (byte)(flags | (entropy.IsEmpty ? 0 : InstanceWire.FlagEntropy));
        entropy.CopyTo(head[1..]);
        link.Send(InstanceWire.Execute, head[..(1 + entropy.Length)], command);
    }

    private protected override void Read(InstanceConnection link) => link.Receive();

    internal override bool TryParse(InstanceConnection link, out ExecuteAnswer answer)
    {
        answer = default;
        return link.Status == InstanceWire.StatusOk && ExecuteAnswer.TryParse(link.Payload, out answer);
    }

    /// <summary>SHA-256 of the engine's full canonical state (volatile included: our state has no clock in it).</summary>
    internal override byte[] Digest()
    {
        (byte status, byte[] digest) = Call(InstanceWire.Digest, []);
        return status == InstanceWire.StatusOk ? digest : throw new InvalidDataException("the instance refused the digest request");
    }

    internal override bool Flush() => Call(InstanceWire.Flush, []).Status == InstanceWire.StatusOk;

    internal override (long Saves, double LastMs, double MaxMs)? Persistence()
    {
        (byte status, byte[] lag) = Call(InstanceWire.Persistence, []);
        return status == InstanceWire.StatusOk && lag.Length == 24
            ? (BinaryPrimitives.ReadInt64BigEndian(lag), BinaryPrimitives.ReadDoubleBigEndian(lag.AsSpan(8)), BinaryPrimitives.ReadDoubleBigEndian(lag.AsSpan(16)))
            : throw new InvalidDataException("the instance refused the persistence request");
    }

    internal override byte[] Entropy()
    {
        (byte status, byte[] fresh) = Call(InstanceWire.Entropy, []);
        return status == InstanceWire.StatusOk && fresh.Length == InstanceWire.EntropySize ? fresh : throw new InvalidDataException("the instance refused to generate entropy");
    }

    internal override byte[]? TakeVolatile()
    {
        (byte status, byte[] state) = Call(InstanceWire.TakeVolatile, []);
        return status == InstanceWire.StatusOk && state.Length > 32 ? state : throw new InvalidDataException("the instance refused to hand over its state");
    }

    internal override bool AdoptVolatile(byte[] state, bool durable)
    {
        byte[] payload = new byte[1 + state.Length];
        payload[0] = durable ? InstanceWire.FlagDurable : (byte)0;
        state.CopyTo(payload, 1);
        return Call(InstanceWire.AdoptVolatile, payload).Status == InstanceWire.StatusOk;
    }

    /// <summary>One whole wire request/answer for the cold paths (digests, flushes, pings); the answer is copied out.</summary>
    private (byte Status, byte[] Payload) Call(byte op, ReadOnlySpan<byte> payload)
    {
        InstanceConnection link = Take();
        try
        {
            link.Send(op, payload, []);
            link.Receive();
        }
        catch
        {
            Discard(link);
            throw;
        }

        (byte, byte[]) answer = (link.Status, link.Payload.ToArray());
        Return(link);
        return answer;
    }
}
