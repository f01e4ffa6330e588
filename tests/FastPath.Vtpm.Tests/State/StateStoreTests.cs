using FastPath.Testing;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Tests.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void An_empty_directory_has_no_state_and_a_save_reads_back()
    {
        var store = new StateStore(_directory.Path);
        Assert.Null(store.Load());
        store.Save([1, 2, 3]);
        store.Save([4, 5, 6, 7]);
        Assert.Equal(new byte[] { 4, 5, 6, 7 }, new StateStore(_directory.Path).Load());
        Assert.Equal(2, store.Writes);
        Assert.False(File.Exists(Path.Combine(_directory.Path, "tpm2-state.tmp")));
    }

    [Fact]
    public void A_leftover_temp_file_from_a_crash_does_not_replace_the_last_saved_state()
    {
        var store = new StateStore(_directory.Path);
        store.Save([1, 2, 3]);
        File.WriteAllBytes(Path.Combine(_directory.Path, "tpm2-state.tmp"), [9, 9]);
        Assert.Equal(new byte[] { 1, 2, 3 }, store.Load());
        store.Save([5]);
        Assert.Equal(new byte[] { 5 }, store.Load());
    }

    [Fact]
    public void A_damaged_file_is_refused_with_its_path()
    {
        var store = new StateStore(_directory.Path);
        store.Save([1, 2, 3, 4, 5]);
        byte[] file = File.ReadAllBytes(store.FilePath);
        file[2] ^= 0xFF;
        File.WriteAllBytes(store.FilePath, file);
        InvalidDataException error = Assert.Throws<InvalidDataException>(store.Load);
        Assert.Contains(store.FilePath, error.Message);
        File.WriteAllBytes(store.FilePath, [1]);
        Assert.Throws<InvalidDataException>(store.Load);
    }
}
