namespace FastPath.Testing;

/// <summary>
/// A tmpfs of a given size mounted on a fresh folder (root only), for tests of what happens when a disk fills:
/// <see cref="Fill"/> takes every free byte with one file, <see cref="Free"/> gives them back; unmounted on dispose.
/// </summary>
/// <remarks>Not thread-safe: one test drives it.</remarks>
public sealed class SmallFileSystem : IDisposable
{
    private readonly TempDirectory _folder = new();

    /// <param name="size">tmpfs size, as mount takes it (<c>256k</c>, <c>4m</c>).</param>
    public SmallFileSystem(string size)
    {
        ProcessRunner.Run("mount", "-t", "tmpfs", "-o", "size=" + size, "fastpath-test", _folder.Path).EnsureSuccess();
    }

    /// <summary>The mount point.</summary>
    public string Path => _folder.Path;

    private string Filler => File("filler");

    /// <summary>A path inside the mount.</summary>
    public string File(string name) => _folder.File(name);

    /// <summary>Writes one file until the file system has no space left.</summary>
    public void Fill()
    {
        // Unbuffered: the write that finds no space throws here, and disposing has nothing left to flush.
        using var filler = new FileStream(Filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        byte[] block = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(block);
            }
        }
        catch (IOException)
        {
            // No space left on device: the file system is full.
        }
    }

    /// <summary>Deletes what <see cref="Fill"/> wrote.</summary>
    public void Free() => System.IO.File.Delete(Filler);

    public void Dispose()
    {
        ProcessRunner.Run("umount", _folder.Path);
        _folder.Dispose();
    }
}
