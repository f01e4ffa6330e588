using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FastPath.Vtpm.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Vtpm.State;

/// <summary>
/// The vTPM's persistent state in a state directory, as two slot files written alternately in place
/// (<see cref="Slot0FileName"/>, <see cref="Slot1FileName"/>). A record is a header (magic, format version,
/// sequence number, blob length), the blob and a SHA-256 over both. A save overwrites the slot that does not
/// hold the newest valid record and fdatasyncs it: one flush, where a temp file + rename costs two (file and
/// directory). A crash mid-write tears only that slot, whose checksum then fails, and the other slot still
/// holds the last acknowledged blob; the higher sequence of the valid slots wins on load.
/// </summary>
/// <remarks>
/// Not thread-safe: one writer (the engine's executing thread) at a time, and one store instance writing a
/// directory at a time (it caches which slot is newest). Readers in other instances may load concurrently.
/// A slot file only ever comes into existence by rename of a fully written, synced temp file, so every
/// existing slot held a valid record once and at most one of the two can be torn; both failing means damage
/// from outside the vTPM, which <see cref="Load"/> reports instead of guessing.
/// </remarks>
public sealed class StateStore : IDisposable
{
    /// <summary>The single-file format written before the slots (blob + SHA-256 trailer): still read, and
    /// removed by the first save once a slot holding its successor is durable.</summary>
    public const string FileName = "tpm2-state.bin";
    public const string Slot0FileName = "tpm2-state.0";
    public const string Slot1FileName = "tpm2-state.1";
    private const string TempName = "tpm2-state.tmp";

    // "FPVS" read as a little-endian u32; version 1 = this layout.
    private const uint Magic = 0x53565046;
    private const uint FormatVersion = 1;

    // magic u32, version u32, sequence u64, blob length u64 (all little-endian).
    internal const int HeaderSize = 24;
    internal const int ChecksumSize = 32;

    private readonly string _directory;
    private readonly string[] _slotPaths;
    private readonly string _legacyPath;
    private readonly string _tempPath;
    private readonly SafeFileHandle?[] _slots = new SafeFileHandle?[2];
    private byte[] _record = [];
    private bool _scanned;
    private int _newest = -1;
    private ulong _sequence;
    private bool _legacyPresent;
    private bool _disposed;

    public StateStore(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
        _slotPaths = [Path.Combine(_directory, Slot0FileName), Path.Combine(_directory, Slot1FileName)];
        _legacyPath = Path.Combine(_directory, FileName);
        _tempPath = Path.Combine(_directory, TempName);
    }

    /// <summary>Where the state lives: the state directory (the blob is in one of its two slot files).</summary>
    public string FilePath => _directory;

    /// <summary>Number of durable writes so far (for tests and the status command).</summary>
    public long Writes { get; private set; }

    /// <summary>The file the last <see cref="Load"/> returned its blob from (a slot or the old single file), or null.</summary>
    public string? LoadedFrom { get; private set; }

    /// <summary>The last saved blob, or null when the directory holds no state yet.</summary>
    public byte[]? Load()
    {
        LoadedFrom = null;
        byte[]? blob0 = ReadSlot(0, out ulong sequence0, out string? problem0);
        byte[]? blob1 = ReadSlot(1, out ulong sequence1, out string? problem1);
        _legacyPresent = File.Exists(_legacyPath);
        Remember(blob0 is not null, sequence0, blob1 is not null, sequence1);
        if (_newest >= 0)
        {
            LoadedFrom = _slotPaths[_newest];
            return _newest == 0 ? blob0 : blob1;
        }

        if (problem0 is not null || problem1 is not null)
        {
            throw new InvalidDataException(
                $"{_directory}: no valid state slot: {_slotPaths[0]}: {problem0 ?? "missing"}; {_slotPaths[1]}: {problem1 ?? "missing"}");
        }

        LoadedFrom = _legacyPresent ? _legacyPath : null;
        return _legacyPresent ? LoadLegacy() : null;
    }

    /// <summary>Makes <paramref name="blob"/> the durable state; returns only once it is on stable storage.</summary>
    public void Save(byte[] blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_scanned)
        {
            Scan();
        }

        int target = _newest == 0 ? 1 : 0;
        ulong sequence = _sequence + 1;
        int length = Encode(sequence, blob);
        SafeFileHandle? handle = _slots[target];
        if (handle is null && File.Exists(_slotPaths[target]))
        {
            handle = _slots[target] = File.OpenHandle(_slotPaths[target], FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        }

        if (handle is not null)
        {
            // In place, never shrinking: the header's length says where the record ends, so the file size
            // only changes when a blob outgrows every earlier one (fdatasync then flushes the size too).
            RandomAccess.Write(handle, _record.AsSpan(0, length), 0);
            DataSync(handle, _slotPaths[target]);
        }
        else
        {
            CreateSlot(target, length);
        }

        _newest = target;
        _sequence = sequence;
        Writes++;
        if (_legacyPresent)
        {
            // Only now: until the slot above was durable the old file was the only copy of the state.
            File.Delete(_legacyPath);
            SyncDirectory();
            _legacyPresent = false;
        }
    }

    /// <summary>Closes the slot files; the store cannot save afterwards.</summary>
    public void Dispose()
    {
        _disposed = true;
        _slots[0]?.Dispose();
        _slots[1]?.Dispose();
        _slots[0] = _slots[1] = null;
    }

    /// <summary>Which slot a save would leave untouched, without failing on damaged slots: the next save
    /// writes the other one with a higher sequence, which is what the next load returns.</summary>
    private void Scan()
    {
        bool valid0 = ReadSlot(0, out ulong sequence0, out _) is not null;
        bool valid1 = ReadSlot(1, out ulong sequence1, out _) is not null;
        _legacyPresent = File.Exists(_legacyPath);
        Remember(valid0, sequence0, valid1, sequence1);
    }

    private void Remember(bool valid0, ulong sequence0, bool valid1, ulong sequence1)
    {
        _newest = valid0 && (!valid1 || sequence0 >= sequence1) ? 0 : valid1 ? 1 : -1;
        _sequence = _newest switch { 0 => sequence0, 1 => sequence1, _ => 0 };
        _scanned = true;
    }

    /// <summary>The blob of a slot whose record verifies; null with <paramref name="problem"/> null when the
    /// slot file does not exist, null with the reason when it exists but does not verify.</summary>
    private byte[]? ReadSlot(int slot, out ulong sequence, out string? problem)
    {
        sequence = 0;
        problem = null;
        string path = _slotPaths[slot];
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] file = File.ReadAllBytes(path);
        problem = Verify(file, out sequence, out int blobLength);
        return problem is null ? file.AsSpan(HeaderSize, blobLength).ToArray() : null;
    }

    /// <summary>Null when <paramref name="file"/> starts with a whole, checksummed record of this format.</summary>
    internal static string? Verify(ReadOnlySpan<byte> file, out ulong sequence, out int blobLength)
    {
        sequence = 0;
        blobLength = 0;
        if (file.Length < HeaderSize + ChecksumSize)
        {
            return $"{file.Length} bytes, shorter than a header and checksum";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(file) != Magic)
        {
            return "not a state slot (bad magic)";
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file[16..]);
        if (length > (ulong)(file.Length - HeaderSize - ChecksumSize))
        {
            return $"record of {length} bytes does not fit in the {file.Length}-byte file (torn write)";
        }

        int end = HeaderSize + (int)length;
        Span<byte> hash = stackalloc byte[ChecksumSize];
        SHA256.HashData(file[..end], hash);
        if (!hash.SequenceEqual(file.Slice(end, ChecksumSize)))
        {
            return "checksum mismatch (torn write or damage outside the vTPM)";
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        if (version != FormatVersion)
        {
            return $"format version {version} is not supported (this build reads {FormatVersion})";
        }

        sequence = BinaryPrimitives.ReadUInt64LittleEndian(file[8..]);
        blobLength = (int)length;
        return null;
    }

    /// <summary>Builds the record in the reused buffer; returns its length.</summary>
    private int Encode(ulong sequence, byte[] blob)
    {
        int length = HeaderSize + blob.Length + ChecksumSize;
        if (_record.Length < length)
        {
            _record = new byte[Math.Max(length, _record.Length * 2)];
        }

        Span<byte> record = _record.AsSpan(0, length);
        BinaryPrimitives.WriteUInt32LittleEndian(record, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(record[16..], (ulong)blob.Length);
        blob.CopyTo(record[HeaderSize..]);
        SHA256.HashData(record[..(HeaderSize + blob.Length)], record[(HeaderSize + blob.Length)..]);
        return length;
    }

    /// <summary>First write of a slot: temp file, fdatasync, rename, directory fsync, so that a slot file
    /// never exists without a valid record in it (a crash here leaves at most a stray temp file).</summary>
    private void CreateSlot(int slot, int length)
    {
        using (SafeFileHandle temp = File.OpenHandle(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(temp, _record.AsSpan(0, length), 0);
            DataSync(temp, _tempPath);
        }

        File.Move(_tempPath, _slotPaths[slot], overwrite: true);
        SyncDirectory();
        _slots[slot] = File.OpenHandle(_slotPaths[slot], FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);

        // The other slot is made now too (the same record, so both verify and either may be read): every later
        // save then overwrites a file in place, which needs no new space unless the state grows. A full file
        // system otherwise refused the second save ever made (it had to create a file), however small.
        int other = 1 - slot;
        if (_slots[other] is null && !File.Exists(_slotPaths[other]))
        {
            using (SafeFileHandle temp = File.OpenHandle(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                RandomAccess.Write(temp, _record.AsSpan(0, length), 0);
                DataSync(temp, _tempPath);
            }

            File.Move(_tempPath, _slotPaths[other], overwrite: false);
            SyncDirectory();
        }
    }

    private byte[] LoadLegacy()
    {
        byte[] file = File.ReadAllBytes(_legacyPath);
        if (file.Length < ChecksumSize)
        {
            throw new InvalidDataException($"{_legacyPath}: {file.Length} bytes, shorter than its checksum");
        }

        ReadOnlySpan<byte> blob = file.AsSpan(0, file.Length - ChecksumSize);
        if (!SHA256.HashData(blob).AsSpan().SequenceEqual(file.AsSpan(file.Length - ChecksumSize)))
        {
            throw new InvalidDataException($"{_legacyPath}: checksum mismatch (the file was damaged outside the vTPM)");
        }

        return blob.ToArray();
    }

    private static void DataSync(SafeFileHandle handle, string path)
    {
        if (Posix.Fdatasync(handle) != 0)
        {
            throw new IOException($"fdatasync({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
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
