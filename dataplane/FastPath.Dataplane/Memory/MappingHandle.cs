using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Memory;

/// <summary>Owns one mmap reservation (guard pages included) and unmaps it exactly once, even if the owner leaks.</summary>
/// <remarks>Thread-safe as any <see cref="SafeHandle"/>: release runs once, after the last DangerousAddRef is released.</remarks>
internal sealed unsafe class MappingHandle : SafeHandle
{
    private readonly nuint _length;

    internal MappingHandle(void* address, nuint length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _length = length;
        SetHandle((IntPtr)address);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    internal byte* Address => (byte*)handle;

    internal nuint Length => _length;

    // One munmap covers the PROT_NONE reservation and every MAP_FIXED mapping placed inside it.
    protected override bool ReleaseHandle() => Libc.Munmap((void*)handle, _length) == 0;
}
