namespace FastPath.Testing;

/// <summary>Python scapy (Debian's python3-scapy under /usr/bin/python3) as a packet builder and oracle.</summary>
public static class Scapy
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> after <c>from scapy.all import *</c>; returns its stdout.</summary>
    public static string Run(string script, TimeSpan? timeout = null)
    {
        string program = "import logging\nlogging.getLogger('scapy.runtime').setLevel(logging.ERROR)\nfrom scapy.all import *\n" + script;
        return ProcessRunner.Run(Python, ["-c", program], timeout).EnsureSuccess().StandardOutput;
    }
}
