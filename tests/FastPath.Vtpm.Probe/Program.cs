using System.Buffers.Binary;
using System.Globalization;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Probe;

/// <summary>
/// <c>FastPath.Vtpm.Probe save-loop DIR</c>: loads the state store in DIR, then saves blob n+1, n+2, … for
/// ever, printing each n on stdout once its Save has returned. The crash test kills it with SIGKILL at
/// arbitrary points and checks that DIR then holds the last printed blob or the one after it, whole.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != "save-loop")
        {
            Console.Error.WriteLine("usage: FastPath.Vtpm.Probe save-loop DIR");
            return 2;
        }

        using var store = new StateStore(args[1]);
        byte[]? loaded = store.Load();
        long n = loaded is null ? 0 : Number(loaded);
        if (loaded is not null && !loaded.AsSpan().SequenceEqual(Blob(n)))
        {
            Console.Error.WriteLine($"loaded blob {n} differs from what was saved as blob {n}");
            return 1;
        }

        using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        while (true)
        {
            n++;
            store.Save(Blob(n));
            stdout.WriteLine(n.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Blob number n: n itself, then bytes derived from n, 64 B to 8 KiB long so that consecutive
    /// saves grow and shrink the record and a mix of two blobs never equals either.</summary>
    public static byte[] Blob(long n)
    {
        byte[] blob = new byte[64 + (int)((ulong)n * 2654435761UL % 8128)];
        BinaryPrimitives.WriteInt64LittleEndian(blob, n);
        for (int i = 8; i < blob.Length; i++)
        {
            blob[i] = (byte)((n * 31) + (i * 7) + (i >> 8));
        }

        return blob;
    }

    public static long Number(byte[] blob) => BinaryPrimitives.ReadInt64LittleEndian(blob);
}
