namespace FastPath.Testing;

/// <summary>Wireshark's command-line tools as an independent oracle for capture files and packet fields.</summary>
public static class Tshark
{
    /// <summary><c>tshark -r FILE -T fields -e F1 -e F2 ...</c>, one string array per packet.</summary>
    public static IReadOnlyList<string[]> Fields(string file, IEnumerable<string> fields, IEnumerable<string>? options = null)
    {
        var arguments = new List<string> { "-n", "-r", file, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=," };
        if (options is not null)
        {
            foreach (string option in options)
            {
                arguments.Add("-o");
                arguments.Add(option);
            }
        }

        foreach (string field in fields)
        {
            arguments.Add("-e");
            arguments.Add(field);
        }

        string output = ProcessRunner.Run("tshark", arguments).EnsureSuccess().StandardOutput;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')).ToList();
    }

    /// <summary>The bytes of every packet as tshark reads them (<c>-x</c> hex dump), for byte-exact comparisons.</summary>
    public static string HexDump(string file) =>
        ProcessRunner.Run("tshark", "-n", "-r", file, "-x").EnsureSuccess().StandardOutput;

    /// <summary><c>capinfos -t</c>: the file type tshark detects (<c>pcap</c>, <c>pcapng</c>, <c>nsecpcap</c>, ...).</summary>
    public static string FileType(string file)
    {
        string output = ProcessRunner.Run("capinfos", "-t", "-M", file).EnsureSuccess().StandardOutput;
        string line = output.Split('\n').First(l => l.StartsWith("File type:", StringComparison.Ordinal));
        return line["File type:".Length..].Trim();
    }

    /// <summary><c>editcap -F FORMAT IN OUT</c>.</summary>
    public static void Convert(string input, string output, string format) =>
        ProcessRunner.Run("editcap", "-F", format, input, output).EnsureSuccess();
}
