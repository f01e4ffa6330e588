using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FastPath.Testing;
using FastPath.Vtpm.Probe;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Tests.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Slot(int slot) => _directory.File(slot == 0 ? StateStore.Slot0FileName : StateStore.Slot1FileName);

    private string Legacy => _directory.File(StateStore.FileName);

    [Fact]
    public void An_empty_directory_has_no_state_and_a_save_reads_back()
    {
        using var store = new StateStore(_directory.Path);
        Assert.Equal(_directory.Path, store.FilePath);
        Assert.Null(store.Load());
        store.Save([1, 2, 3]);
        store.Save([4, 5, 6, 7]);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, new StateStore(_directory.Path).Load());
        Assert.Equal(2, store.Writes);
        Assert.False(File.Exists(_directory.File("tpm2-state.tmp")));
        Assert.False(File.Exists(Legacy));
    }

    [Fact]
    public void Saves_alternate_between_the_slots_with_increasing_sequence_numbers()
    {
        using (var store = new StateStore(_directory.Path))
        {
            for (int i = 1; i <= 5; i++)
            {
                store.Save([(byte)i]);
                AssertRecord((i - 1) % 2, (ulong)i, [(byte)i]);
                Assert.Equal(new[] { (byte)i }, store.Load());
            }
        }

        // Save 5 went to slot 0: a new store (another process after a restart) must not overwrite it.
        using var next = new StateStore(_directory.Path);
        next.Save([6]);
        AssertRecord(0, 5, new byte[] { 5 });
        AssertRecord(1, 6, new byte[] { 6 });
        Assert.Equal(new byte[] { 6 }, new StateStore(_directory.Path).Load());
    }

    [Fact]
    public void A_torn_or_damaged_newest_slot_falls_back_to_the_previous_blob_and_is_the_one_rewritten()
    {
        using var store = new StateStore(_directory.Path);
        store.Save([1, 1, 1]);
        store.Save([2, 2, 2, 2, 2, 2]);
        byte[] newest = File.ReadAllBytes(Slot(1));

        // A write that stopped part way (the file ends inside the record).
        File.WriteAllBytes(Slot(1), newest.AsSpan(0, newest.Length - 10).ToArray());
        Assert.Equal(new byte[] { 1, 1, 1 }, new StateStore(_directory.Path).Load());

        // A write that reached the header but not all of the blob: same length, different bytes.
        byte[] flipped = (byte[])newest.Clone();
        flipped[StateStore.HeaderSize + 2] ^= 0x40;
        File.WriteAllBytes(Slot(1), flipped);
        Assert.Equal(new byte[] { 1, 1, 1 }, new StateStore(_directory.Path).Load());

        // The next save goes over the damaged slot, never over the good one.
        using var writer = new StateStore(_directory.Path);
        Assert.Equal(new byte[] { 1, 1, 1 }, writer.Load());
        writer.Save([3]);
        AssertRecord(1, 2, new byte[] { 3 });
        AssertRecord(0, 1, new byte[] { 1, 1, 1 });
        Assert.Equal(new byte[] { 3 }, new StateStore(_directory.Path).Load());
    }

    [Fact]
    public void A_leftover_temp_file_from_a_crash_does_not_replace_the_last_saved_state()
    {
        using var store = new StateStore(_directory.Path);
        store.Save([1, 2, 3]);
        File.WriteAllBytes(_directory.File("tpm2-state.tmp"), [9, 9]);
        Assert.Equal(new byte[] { 1, 2, 3 }, store.Load());
        store.Save([5]);
        Assert.Equal(new byte[] { 5 }, store.Load());
        store.Save([6]);
        Assert.Equal(new byte[] { 6 }, new StateStore(_directory.Path).Load());
    }

    [Fact]
    public void Both_slots_damaged_is_refused_with_both_paths_and_reasons()
    {
        using var store = new StateStore(_directory.Path);
        store.Save([1, 2, 3, 4, 5]);

        // The first save writes both slots (later saves then overwrite in place); a directory written before
        // that held slot 0 alone, which is the case here.
        Assert.Equal(File.ReadAllBytes(Slot(0)), File.ReadAllBytes(Slot(1)));
        File.Delete(Slot(1));
        byte[] file = File.ReadAllBytes(Slot(0));
        file[StateStore.HeaderSize + 2] ^= 0xFF;
        File.WriteAllBytes(Slot(0), file);

        // Slot 0 existed, so it once held a valid record: damaged with nothing to fall back to is an error.
        InvalidDataException onlyOne = Assert.Throws<InvalidDataException>(new StateStore(_directory.Path).Load);
        Assert.Contains(Slot(0), onlyOne.Message);
        Assert.Contains("checksum mismatch", onlyOne.Message);

        File.WriteAllBytes(Slot(1), [1]);
        InvalidDataException both = Assert.Throws<InvalidDataException>(new StateStore(_directory.Path).Load);
        Assert.Contains(Slot(0), both.Message);
        Assert.Contains(Slot(1), both.Message);
        Assert.Contains("1 bytes, shorter than a header", both.Message);

        File.WriteAllBytes(Slot(1), new byte[100]);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(new StateStore(_directory.Path).Load).Message);
    }

    [Fact]
    public void A_slot_of_an_unknown_format_version_is_not_loaded()
    {
        using var store = new StateStore(_directory.Path);
        store.Save([7, 7]);
        File.Delete(Slot(1));
        byte[] file = File.ReadAllBytes(Slot(0));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), 2);
        int end = StateStore.HeaderSize + 2;
        SHA256.HashData(file.AsSpan(0, end), file.AsSpan(end));
        File.WriteAllBytes(Slot(0), file);
        InvalidDataException error = Assert.Throws<InvalidDataException>(new StateStore(_directory.Path).Load);
        Assert.Contains("format version 2", error.Message);
    }

    [Fact]
    public void The_old_single_file_format_is_read_and_replaced_by_a_slot_on_the_first_save()
    {
        byte[] old = [10, 20, 30, 40];
        File.WriteAllBytes(Legacy, [.. old, .. SHA256.HashData(old)]);
        using var store = new StateStore(_directory.Path);
        Assert.Equal(old, store.Load());
        Assert.Equal(old, new StateStore(_directory.Path).Load());

        store.Save([50]);
        Assert.False(File.Exists(Legacy));
        AssertRecord(0, 1, new byte[] { 50 });
        Assert.Equal(new byte[] { 50 }, new StateStore(_directory.Path).Load());
    }

    [Fact]
    public void An_old_file_left_next_to_a_slot_loses_and_a_damaged_old_file_is_refused_with_its_path()
    {
        // A crash after the first slot was durable but before the old file's removal was: the slot is newer.
        byte[] old = [1, 2];
        using (var store = new StateStore(_directory.Path))
        {
            store.Save([3, 4]);
        }

        File.WriteAllBytes(Legacy, [.. old, .. SHA256.HashData(old)]);
        Assert.Equal(new byte[] { 3, 4 }, new StateStore(_directory.Path).Load());
        using (var store = new StateStore(_directory.Path))
        {
            store.Load();
            store.Save([5]);
        }

        Assert.False(File.Exists(Legacy));
        Assert.Equal(new byte[] { 5 }, new StateStore(_directory.Path).Load());

        using var other = new TempDirectory();
        string legacy = other.File(StateStore.FileName);
        File.WriteAllBytes(legacy, [.. old, .. SHA256.HashData([9, 9])]);
        InvalidDataException error = Assert.Throws<InvalidDataException>(new StateStore(other.Path).Load);
        Assert.Contains(legacy, error.Message);
        File.WriteAllBytes(legacy, [1]);
        Assert.Throws<InvalidDataException>(new StateStore(other.Path).Load);
    }

    [Fact]
    public void Blobs_that_shrink_and_grow_read_back_exactly_and_slot_files_never_shrink()
    {
        using var store = new StateStore(_directory.Path);
        long[] sizes = [0, 0];
        int[] lengths = [10_000, 10, 5_000, 0, 20_000, 1, 4096, 3];
        for (int i = 0; i < lengths.Length; i++)
        {
            byte[] blob = new byte[lengths[i]];
            new Random(i).NextBytes(blob);
            store.Save(blob);
            Assert.Equal(blob, new StateStore(_directory.Path).Load());
            long size = new FileInfo(Slot(i % 2)).Length;
            Assert.True(size >= sizes[i % 2], $"slot {i % 2} shrank from {sizes[i % 2]} to {size}");
            Assert.True(size >= StateStore.HeaderSize + blob.Length + StateStore.ChecksumSize);
            sizes[i % 2] = size;
        }

        Assert.Equal(lengths.Length, store.Writes);
    }

    [Fact]
    public async Task A_writer_killed_with_SIGKILL_at_random_points_leaves_the_last_reported_blob_or_the_next_one_whole()
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        string probe = Path.Combine(AppContext.BaseDirectory, "FastPath.Vtpm.Probe");
        var random = new Random(9);
        long loaded = 0;
        for (int kill = 0; kill < 30; kill++)
        {
            var start = new ProcessStartInfo(probe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("save-loop");
            start.ArgumentList.Add(_directory.Path);
            using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {probe}");
            Task<string> stderr = child.StandardError.ReadToEndAsync(cancel);
            long reported = loaded;
            int lines = random.Next(1, 16);
            for (int i = 0; i < lines; i++)
            {
                string? line;
                try
                {
                    line = await child.StandardOutput.ReadLineAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancel);
                }
                catch (TimeoutException)
                {
                    line = null;
                }

                if (line is null)
                {
                    child.Kill();
                    Assert.Fail($"kill {kill}: the probe stopped reporting saves; stderr: {await stderr}");
                }

                reported = NextReported(reported, line, kill);
            }

            // Land the kill at different points of the next save (most of which is the fdatasync).
            await Task.Delay(random.Next(0, 4), cancel);
            child.Kill();
            await child.WaitForExitAsync(cancel);

            // Saves reported after the lines read above also count; a line cut short by the kill does not.
            string[] rest = (await child.StandardOutput.ReadToEndAsync(cancel)).Split('\n');
            for (int i = 0; i < rest.Length - 1; i++)
            {
                reported = NextReported(reported, rest[i], kill);
            }

            byte[]? state = new StateStore(_directory.Path).Load();
            Assert.NotNull(state);
            loaded = Program.Number(state);
            Assert.InRange(loaded, reported, reported + 1);
            Assert.Equal(Program.Blob(loaded), state);
        }
    }

    private static long NextReported(long previous, string line, int kill)
    {
        long n = long.Parse(line, CultureInfo.InvariantCulture);
        Assert.True(n == previous + 1, $"kill {kill}: the probe reported save {n} after {previous}");
        return n;
    }

    /// <summary>Reads the slot file directly: a valid record with this sequence number and blob.</summary>
    private void AssertRecord(int slot, ulong sequence, byte[] blob)
    {
        byte[] file = File.ReadAllBytes(Slot(slot));
        Assert.Null(StateStore.Verify(file, out ulong actualSequence, out int length));
        Assert.Equal(sequence, actualSequence);
        Assert.Equal(blob, file.AsSpan(StateStore.HeaderSize, length).ToArray());
    }
}
