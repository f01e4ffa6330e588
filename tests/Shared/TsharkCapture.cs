using System.Diagnostics;
using System.Text;

namespace FastPath.Testing;

/// <summary>
/// A live tshark capture running in the background (optionally inside a namespace), started before the traffic it
/// must see: <see cref="Start"/> returns once tshark reports that capturing has begun, <see cref="Finish"/> waits
/// for it to stop after <c>count</c> packets or the duration, whichever comes first.
/// </summary>
/// <remarks>Not thread-safe: one test owns one capture.</remarks>
public sealed class TsharkCapture : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TsharkCapture(Process process, string file)
    {
        _process = process;
        File = file;
    }

    /// <summary>The pcap file being written.</summary>
    public string File { get; }

    /// <summary>
    /// Starts <c>tshark -i INTERFACE -f FILTER -c COUNT -a duration:SECONDS -F pcap -w FILE</c> and waits (at most
    /// 20 s) until it is capturing.
    /// </summary>
    public static TsharkCapture Start(string? ns, string iface, string file, int count, TimeSpan duration, string? captureFilter = null)
    {
        var start = new ProcessStartInfo(ns is null ? "tshark" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ns is not null)
        {
            foreach (string word in new[] { "netns", "exec", ns, "tshark" })
            {
                start.ArgumentList.Add(word);
            }
        }

        foreach (string word in new[] { "-n", "-i", iface, "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", $"duration:{(int)Math.Ceiling(duration.TotalSeconds)}", "-F", "pcap", "-w", file })
        {
            start.ArgumentList.Add(word);
        }

        if (captureFilter is not null)
        {
            start.ArgumentList.Add("-f");
            start.ArgumentList.Add(captureFilter);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start tshark");
        var capture = new TsharkCapture(process, file);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                capture._started.TrySetException(new InvalidOperationException("tshark exited before capturing: " + capture.Stderr));
                return;
            }

            lock (capture._stderr)
            {
                capture._stderr.AppendLine(e.Data);
            }

            // "Capturing on 'IF'" comes before dumpcap has its socket; "Capture started" comes once dumpcap has
            // opened the device and the output file (tshark 4.0 logs it at MESSAGE level).
            if (e.Data.Contains("Capture started", StringComparison.Ordinal))
            {
                capture._started.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!capture._started.Task.Wait(TimeSpan.FromSeconds(20)))
        {
            capture.Dispose();
            throw new TimeoutException("tshark did not start capturing within 20 s: " + capture.Stderr);
        }

        return capture;
    }

    /// <summary>What tshark wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits for tshark to stop (count reached or duration over, plus a margin) and returns the file.</summary>
    public string Finish(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException("tshark did not stop within " + timeout + ": " + Stderr);
        }

        _process.WaitForExit();
        return File;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
