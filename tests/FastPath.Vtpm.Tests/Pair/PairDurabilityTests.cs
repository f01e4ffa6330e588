using System.Buffers.Binary;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>
/// The pair's two durability modes against kill -9 of the controller and both instances at once: in
/// <c>sync</c> mode every acknowledged NV write survives whatever instant the kill hits; in <c>pair</c> mode an
/// acknowledged write reaches both disks by itself, without another command to push it.
/// </summary>
public sealed class PairDurabilityTests : IDisposable
{
    private const uint NvIndex = 0x1500021;
    private readonly TempDirectory _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public void Sync_mode_keeps_every_acknowledged_write_when_everything_is_killed_at_once()
    {
        for (int round = 0; round < 3; round++)
        {
            ulong acknowledged;
            using (var pair = new PairProcess(_state.Path, durability: "sync"))
            {
                Ok(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear()));
                if (round == 0)
                {
                    Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvDefineOwner(NvIndex, 8)));
                }

                ulong start = ReadCounter(pair.Port);
                pair.WaitBothLive();
                acknowledged = start;
                using var stop = new CancellationTokenSource();
                Exception? failure = null;
                var writer = new Thread(() =>
                {
                    try
                    {
                        using var client = new RawTpmClient(pair.Port);
                        for (ulong i = start + 1; !stop.IsCancellationRequested; i++)
                        {
                            byte[] value = new byte[8];
                            BinaryPrimitives.WriteUInt64BigEndian(value, i);
                            byte[] response = client.Send(TpmCommand.NvWriteOwner(NvIndex, value, 0));
                            if (RawTpmClient.Code(response) == 0)
                            {
                                Volatile.Write(ref acknowledged, i);
                            }
                        }
                    }
                    catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException)
                    {
                        // The controller died under the client: expected once the kill lands.
                    }
                    catch (Exception exception) when (exception is not OutOfMemoryException)
                    {
                        failure = exception;
                    }
                });
                writer.Start();
                Thread.Sleep(Random.Shared.Next(150, 600));
                ulong before = Volatile.Read(ref acknowledged);
                pair.Kill9Everything();
                stop.Cancel();
                Assert.True(writer.Join(TimeSpan.FromSeconds(30)), "the writer did not stop after the kill");
                Assert.True(failure is null, failure?.ToString());
                Assert.True(Volatile.Read(ref acknowledged) > start, $"no write was acknowledged in round {round} before the kill (at {before})");
            }

            using (var restarted = new PairProcess(_state.Path, durability: "sync"))
            {
                Ok(RawTpmClient.Once(restarted.Port, TpmCommand.StartupClear()));
                ulong found = ReadCounter(restarted.Port);
                ulong last = Volatile.Read(ref acknowledged);

                // The write in flight at the kill may or may not have landed; nothing acknowledged may be missing.
                Assert.True(found == last || found == last + 1, $"round {round}: NV holds {found}, last acknowledged {last}");
                (string a, string b) = restarted.Digests();
                Assert.Equal(a, b);
            }
        }
    }

    [Fact]
    public void Pair_mode_writes_an_acknowledged_change_to_both_disks_without_another_command()
    {
        using (var pair = new PairProcess(_state.Path))
        {
            Assert.Equal("pair", pair.Status().GetProperty("durability").GetString());
            Ok(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear()));
            Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvDefineOwner(NvIndex, 8)));
            Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvWriteOwner(NvIndex, [7, 7, 7, 7, 7, 7, 7, 7], 0)));

            // A grace far above the disk's flush time; the mode promises the write starts at once.
            Thread.Sleep(2000);

            // Each instance reports its saves and how long changes waited for its disk (no timing asserted).
            foreach (System.Text.Json.JsonElement member in pair.Status().GetProperty("members").EnumerateArray())
            {
                System.Text.Json.JsonElement persist = member.GetProperty("persist");
                Assert.True(persist.GetProperty("saves").GetInt64() >= 2, persist.ToString());
                Assert.True(persist.GetProperty("max_ms").GetDouble() > 0, persist.ToString());
            }

            pair.Kill9Everything();
        }

        // Each instance directory on its own must hold the write: start the pair from a copy holding only one.
        foreach (string keep in (string[])["a", "b"])
        {
            using var copy = new TempDirectory();
            CopyDirectory(Path.Combine(_state.Path, keep), Path.Combine(copy.Path, "a"));
            using var pair = new PairProcess(copy.Path);
            Ok(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear()));
            byte[] read = RawTpmClient.Once(pair.Port, TpmCommand.NvReadOwner(NvIndex, 8, 0));
            Ok(read);
            Assert.Equal(new byte[] { 7, 7, 7, 7, 7, 7, 7, 7 }, read.AsSpan(16, 8).ToArray());
        }
    }

    private static ulong ReadCounter(int port)
    {
        byte[] read = RawTpmClient.Once(port, TpmCommand.NvReadOwner(NvIndex, 8, 0));
        if (RawTpmClient.Code(read) != 0)
        {
            // Defined but never written: TPM_RC_NV_UNINITIALIZED.
            return 0;
        }

        return BinaryPrimitives.ReadUInt64BigEndian(read.AsSpan(16, 8));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            if (!file.EndsWith(".sock", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            }
        }
    }

    private static void Ok(byte[] response) => Assert.Equal(0u, RawTpmClient.Code(response));
}
