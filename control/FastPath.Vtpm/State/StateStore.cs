using System.Security.Cryptography;
using System.Runtime.InteropServices;
using FastPath.Vtpm.Interop;

namespace FastPath.Vtpm.State;

/// <summary>
/// The vTPM's persistent state in one file of a state directory, replaced atomically: write a temp file,
/// fsync it, rename it over the old one, fsync the directory. A crash at any point leaves either the old or
/// the new file, never a torn one; a SHA-256 trailer catches a file damaged by anything else.
/// </summary>
/// <remarks>Not thread-safe: one writer (the engine's executing thread) at a time.</remarks>
public sealed class StateStore
{
    public const string FileName = "tpm2-state.bin";
    private const string TempName = "tpm2-state.tmp";
    private const int TrailerSize = 32;

    private readonly string _directory;
    private readonly string _path;
    private readonly string _tempPath;

    public StateStore(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, FileName);
        _tempPath = Path.Combine(_directory, TempName);
    }

    public string FilePath => _path;

    /// <summary>Number of durable writes so far (for tests and the status command).</summary>
    public long Writes { get; private set; }

    /// <summary>The last saved blob, or null when the directory holds no state yet.</summary>
    public byte[]? Load()
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        byte[] file = File.ReadAllBytes(_path);
        if (file.Length < TrailerSize)
        {
            throw new InvalidDataException($"{_path}: {file.Length} bytes, shorter than its checksum");
        }

        ReadOnlySpan<byte> blob = file.AsSpan(0, file.Length - TrailerSize);
        if (!SHA256.HashData(blob).AsSpan().SequenceEqual(file.AsSpan(file.Length - TrailerSize)))
        {
            throw new InvalidDataException($"{_path}: checksum mismatch (the file was damaged outside the vTPM)");
        }

        return blob.ToArray();
    }

    /// <summary>Makes <paramref name="blob"/> the durable state; returns only once it is on stable storage.</summary>
    public void Save(byte[] blob)
    {
        using (var stream = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.None))
        {
            stream.Write(blob);
            stream.Write(SHA256.HashData(blob));
            stream.Flush(flushToDisk: true);
        }

        File.Move(_tempPath, _path, overwrite: true);
        SyncDirectory();
        Writes++;
    }

    private void SyncDirectory()
    {
        int fd = Posix.Open(_directory, Posix.ORdOnly | Posix.ODirectory | Posix.OCloexec);
        if (fd < 0)
        {
            throw new IOException($"open({_directory}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (Posix.Fsync(fd) != 0)
            {
                throw new IOException($"fsync({_directory}) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            Posix.Close(fd);
        }
    }
}
