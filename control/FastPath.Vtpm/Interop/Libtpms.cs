using System.Runtime.InteropServices;

namespace FastPath.Vtpm.Interop;

/// <summary>The libtpms calls the embedded engine makes (Debian <c>libtpms0</c>, <c>libtpms.so.0</c>): only the
/// <c>TPMLIB_*</c> library API of <c>libtpms/tpm_library.h</c>. Buffers libtpms hands out are malloc'd and are
/// released with <see cref="NativeMemory.Free"/> (libc free).</summary>
/// <remarks>libtpms holds one TPM per process and is not thread-safe: every call is made under one lock
/// (<see cref="Engine.LibtpmsEngine"/>'s caller, the server's engine lock).</remarks>
internal static unsafe partial class Libtpms
{
    private const string LibraryName = "libtpms.so.0";

    /// <summary>TPMLIB_TPM_VERSION_2.</summary>
    public const int TpmVersion2 = 1;

    /// <summary>TPMLIB_STATE_PERMANENT / _VOLATILE.</summary>
    public const int StatePermanent = 1;
    public const int StateVolatile = 2;

    /// <summary>TPM_SUCCESS, TPM_FAIL, and TPM_RETRY (an NVRAM load callback's "no such blob": manufacture).</summary>
    public const uint Success = 0;
    public const uint Fail = 9;
    public const uint Retry = 0x800;

    /// <summary>struct libtpms_callbacks: sizeOfStruct, then seven function pointers.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Callbacks
    {
        public int SizeOfStruct;
        public delegate* unmanaged<uint> NvramInit;
        public delegate* unmanaged<byte**, uint*, uint, byte*, uint> NvramLoadData;
        public delegate* unmanaged<byte*, uint, uint, byte*, uint> NvramStoreData;
        public delegate* unmanaged<uint, byte*, byte, uint> NvramDeleteName;
        public delegate* unmanaged<uint> IoInit;
        public delegate* unmanaged<uint*, uint, uint> IoGetLocality;
        public delegate* unmanaged<byte*, uint, uint> IoGetPhysicalPresence;
    }

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_GetVersion")]
    public static partial uint GetVersion();

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_ChooseTPMVersion")]
    public static partial uint ChooseTpmVersion(int version);

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_RegisterCallbacks")]
    public static partial uint RegisterCallbacks(Callbacks* callbacks);

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_MainInit")]
    public static partial uint MainInit();

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_Terminate")]
    public static partial void Terminate();

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_Process")]
    public static partial uint Process(byte** responseBuffer, uint* responseSize, uint* responseBufferSize, byte* command, uint commandSize);

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_GetState")]
    public static partial uint GetState(int type, byte** buffer, uint* length);

    [LibraryImport(LibraryName, EntryPoint = "TPMLIB_SetState")]
    public static partial uint SetState(int type, byte* buffer, uint length);
}
