namespace FastPath.Cli.Tests.Daemon;

/// <summary>Tests that run the daemon go one after another: each starts a busy-polling worker (the pair test also three vTPM
/// processes), and on two cores a second daemon starves the first one's worker into losing real packets.</summary>
[CollectionDefinition(Name)]
public sealed class DaemonCollection
{
    public const string Name = "daemons";
}
