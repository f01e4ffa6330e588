using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>
/// <c>struct ifreq</c> (40 bytes on x86-64): a 16-byte interface name and a 24-byte union, of which the data plane
/// uses <c>ifr_flags</c> (TUNSETIFF, SIOCGIFFLAGS/SIOCSIFFLAGS), <c>ifr_mtu</c> and <c>ifr_hwaddr</c> (SIOCGIFHWADDR).
/// </summary>
/// <remarks>Plain data passed to ioctl.</remarks>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct IfReq
{
    /// <summary>IFNAMSIZ: names are at most 15 bytes plus the terminating zero.</summary>
    public const int NameSize = 16;

    [FieldOffset(0)]
    public fixed byte Name[NameSize];

    [FieldOffset(16)]
    public short Flags;

    /// <summary><c>ifr_mtu</c> (SIOCGIFMTU).</summary>
    [FieldOffset(16)]
    public int Mtu;

    /// <summary><c>ifr_hwaddr</c>: a <c>struct sockaddr</c>, family then the address bytes.</summary>
    [FieldOffset(16)]
    public ushort HardwareFamily;

    [FieldOffset(18)]
    public fixed byte HardwareAddress[14];

    /// <summary>Writes <paramref name="name"/> (ASCII, at most 15 bytes) zero-terminated.</summary>
    public void SetName(string name)
    {
        if (name.Length == 0 || name.Length >= NameSize)
        {
            throw new ArgumentException($"interface name '{name}' must have 1 to {NameSize - 1} characters", nameof(name));
        }

        for (int i = 0; i < NameSize; i++)
        {
            Name[i] = i < name.Length ? checked((byte)name[i]) : (byte)0;
        }
    }

    /// <summary>The zero-terminated name the kernel wrote back.</summary>
    public readonly string GetName()
    {
        fixed (byte* name = Name)
        {
            return new string((sbyte*)name);
        }
    }
}
