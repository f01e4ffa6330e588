namespace FastPath.Vtpm.Pair;

/// <summary>An instance did not answer (died, hung past the timeout, or broke the protocol).</summary>
public sealed class InstanceFailedException(string member, string message, Exception? inner = null)
    : Exception($"vtpm instance {member}: {message}", inner)
{
    public string Member { get; } = member;
}
