using FastPath.Vtpm.Protocol;

namespace FastPath.Vtpm.Pair;

/// <summary>Copies one instance's full state into the other through the swtpm control channel, the way QEMU
/// migrates a vTPM, so the same sequence works for our instance and a real swtpm: GET_STATEBLOB permanent, volatile
/// and savestate from the source (while it runs); CMD_STOP on the target (swtpm refuses SET_STATEBLOB on a running
/// TPM); SET_STATEBLOB of each non-empty blob with the source's state flags (an encrypted blob stays marked so);
/// CMD_INIT, which resumes the volatile state just set instead of powering on afresh.</summary>
/// <remarks>Stateless; the caller makes sure nothing else runs on either instance meanwhile (global order).</remarks>
internal static class PairStateTransfer
{
    private static readonly byte[] BlobTypes = [ControlCommand.BlobPermanent, ControlCommand.BlobVolatile, ControlCommand.BlobSaveState];

    /// <summary>Returns the number of state bytes copied. Throws <see cref="InstanceFailedException"/> naming the
    /// instance that failed or refused.</summary>
    public static int Copy(PairMember source, PairMember target)
    {
        var blobs = new List<(byte Type, uint Flags, byte[] Blob)>(BlobTypes.Length);
        source.Control(control =>
        {
            foreach (byte type in BlobTypes)
            {
                (uint result, uint flags, byte[] blob) = control.GetStateBlob(type);
                if (result != ControlCommand.ResultSuccess && type != ControlCommand.BlobSaveState)
                {
                    throw new InstanceFailedException(source.Name, $"GET_STATEBLOB type {type} answered 0x{result:x}");
                }

                // No savestate blob exists unless the TPM was shut down with TPM2_Shutdown(STATE): nothing to copy.
                if (result == ControlCommand.ResultSuccess && blob.Length > 0)
                {
                    blobs.Add((type, flags, blob));
                }
            }

            return 0;
        });

        return target.Control(control =>
        {
            Expect(target, "CMD_STOP", control.Stop());
            int bytes = 0;
            foreach ((byte type, uint flags, byte[] blob) in blobs)
            {
                Expect(target, $"SET_STATEBLOB type {type}", control.SetStateBlob(type, flags, blob));
                bytes += blob.Length;
            }

            Expect(target, "CMD_INIT", control.Init());
            return bytes;
        });
    }

    private static void Expect(PairMember member, string what, uint result)
    {
        if (result != ControlCommand.ResultSuccess)
        {
            throw new InstanceFailedException(member.Name, $"{what} answered 0x{result:x}");
        }
    }
}
