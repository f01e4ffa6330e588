using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>
/// Canonical, versioned state blobs. <see cref="SerializePersistent"/> is what the state store keeps
/// (what survives power loss); <see cref="SerializeState"/> adds the volatile state (PCRs, sessions, DRBG,
/// context key, open hash and event sequences with their running hashes) so two engines can be compared by
/// <see cref="StateDigest"/> and one resynced from the other. Both are pure functions of the state: equal states
/// give equal bytes.
/// </summary>
public sealed partial class TpmEngine
{
    internal const uint PersistentMagic = 0x46505450; // "FPTP"
    private const uint FullMagic = 0x46505446; // "FPTF"
    private const ushort PersistentVersion = 1;

    /// <summary>Version 2 added the open hash sequences after the sessions; version 1 (no sequences) still loads.</summary>
    private const ushort FullVersion = 2;
    private const ushort FullVersionWithoutSequences = 1;

    public override byte[] SerializePersistent()
    {
        var w = new BlobWriter();
        w.U32(PersistentMagic);
        w.U16(PersistentVersion);
        WritePersistent(w);
        return w.ToArray();
    }

    /// <summary>Everything, volatile state included: open hash and event sequences carry their running hashes
    /// (<see cref="RunningHash"/> exports its chaining words, byte count and uncompressed tail).</summary>
    public override byte[] SerializeState()
    {
        var w = new BlobWriter();
        w.U32(FullMagic);
        w.U16(FullVersion);
        WritePersistent(w);
        w.Bool(_started);
        w.Blob(SerializePcrs());
        w.U32(_pcrUpdateCounter);
        w.U64(_contextSequence);
        w.Blob(_contextKey);
        w.Blob(_drbg.Key);
        w.Blob(_drbg.Value);
        w.U8(Locality);
        int sessions = 0;
        foreach (AuthSession? session in _sessions)
        {
            sessions += session is null ? 0 : 1;
        }

        w.U32((uint)sessions);
        foreach (AuthSession? session in _sessions)
        {
            if (session is null)
            {
                continue;
            }

            w.U32(session.Handle);
            w.U8(session.SessionType);
            w.U16(session.AuthHash);
            w.U16(session.SymmetricAlg);
            w.U16(session.SymmetricKeyBits);
            w.U16(session.SymmetricMode);
            w.Blob(session.NonceTpm);
            w.Blob(session.NonceCaller);
            w.Blob(session.PolicyDigest);
            w.Bool(session.Saved);
            w.U64(session.SavedSequence);
        }

        WriteSequences(w);
        return w.ToArray();
    }

    /// <summary>SHA-256 of <see cref="SerializeState"/>: equal digests mean equal engines.</summary>
    public override byte[] StateDigest() => SHA256.HashData(SerializeState());

    /// <summary>Replaces this engine's whole state with a blob from <see cref="SerializeState"/> (resync).</summary>
    public override void RestoreState(byte[] blob)
    {
        var r = new BlobReader(blob);
        if (r.U32("magic") != FullMagic)
        {
            throw new InvalidDataException("vTPM state blob: not a full state blob (wrong magic)");
        }

        ushort version = r.U16("version");
        if (version is not (FullVersion or FullVersionWithoutSequences))
        {
            throw new InvalidDataException($"vTPM state blob: full state blob version {version} is not supported (versions 1 and 2 are)");
        }

        ReadPersistent(ref r);
        FlushAllTransient();
        _started = r.Bool("started");
        RestorePcrs(r.Blob("pcrs"));
        _pcrUpdateCounter = r.U32("pcrUpdateCounter");
        _contextSequence = r.U64("contextSequence");
        r.Blob("contextKey").CopyTo(_contextKey, 0);
        _drbg.Restore(r.Blob("drbgKey"), r.Blob("drbgValue"));
        Locality = r.U8("locality");
        uint sessions = r.U32("sessions");
        for (uint i = 0; i < sessions; i++)
        {
            var session = new AuthSession
            {
                Handle = r.U32("session.handle"),
                SessionType = r.U8("session.type"),
                AuthHash = r.U16("session.authHash"),
                SymmetricAlg = r.U16("session.symAlg"),
                SymmetricKeyBits = r.U16("session.keyBits"),
                SymmetricMode = r.U16("session.mode"),
                NonceTpm = r.Blob("session.nonceTpm"),
                NonceCaller = r.Blob("session.nonceCaller"),
                PolicyDigest = r.Blob("session.policyDigest"),
                Saved = r.Bool("session.saved"),
                SavedSequence = r.U64("session.savedSequence"),
            };
            int slot = SessionSlot(session.Handle);
            if (slot < 0)
            {
                throw new InvalidDataException($"vTPM state blob: session handle 0x{session.Handle:x8} out of range");
            }

            _sessions[slot] = session;
        }

        if (version == FullVersion)
        {
            ReadSequences(ref r);
        }

        if (r.Remaining != 0)
        {
            throw new InvalidDataException($"vTPM state blob: {r.Remaining} bytes after the end");
        }
    }

    /// <summary>Open sequences in slot order: handle, algorithm, auth, first bytes, then each bank's running hash.</summary>
    private void WriteSequences(BlobWriter w)
    {
        int count = 0;
        foreach (HashSequence? sequence in _objects)
        {
            count += sequence is null ? 0 : 1;
        }

        w.U32((uint)count);
        foreach (HashSequence? sequence in _objects)
        {
            if (sequence is null)
            {
                continue;
            }

            w.U32(sequence.Handle);
            w.U16(sequence.Alg);
            w.Blob(sequence.Auth);
            w.Blob(sequence.FirstBytes);
            foreach (RunningHash hash in sequence.Hashes)
            {
                w.Blob(hash.ExportState());
            }
        }
    }

    private void ReadSequences(ref BlobReader r)
    {
        uint count = r.U32("sequences");
        for (uint i = 0; i < count; i++)
        {
            uint handle = r.U32("sequence.handle");
            ushort alg = r.U16("sequence.alg");
            byte[] auth = r.Blob("sequence.auth");
            byte[] firstBytes = r.Blob("sequence.firstBytes");
            uint slot = handle - TpmConstants.TransientFirst;
            if (slot >= MaxLoadedObjects || _objects[slot] is not null)
            {
                throw new InvalidDataException($"vTPM state blob: sequence handle 0x{handle:x8} out of range or repeated");
            }

            if (alg != TpmConstants.AlgNull && !HashAlgorithms.IsSupported(alg))
            {
                throw new InvalidDataException($"vTPM state blob: sequence 0x{handle:x8} has unsupported algorithm 0x{alg:x4}");
            }

            if (auth.Length > HashAlgorithms.MaxDigestSize || firstBytes.Length > 4)
            {
                throw new InvalidDataException($"vTPM state blob: sequence 0x{handle:x8} has an oversized auth value or first bytes");
            }

            var hashes = new RunningHash[HashSequence.BankCount(alg)];
            for (int bank = 0; bank < hashes.Length; bank++)
            {
                ushort bankAlg = HashSequence.BankAlg(alg, bank);
                hashes[bank] = RunningHash.ImportState(bankAlg, r.Blob("sequence.hashState"), $"sequence 0x{handle:x8} bank 0x{bankAlg:x4}");
                if (firstBytes.Length != (int)Math.Min(4, hashes[bank].Count))
                {
                    throw new InvalidDataException($"vTPM state blob: sequence 0x{handle:x8} has first bytes that disagree with its hash state");
                }
            }

            _objects[slot] = new HashSequence { Handle = handle, Alg = alg, Auth = auth, Hashes = hashes, FirstBytes = firstBytes };
        }
    }

    private void WritePersistent(BlobWriter w)
    {
        w.Blob(_ownerAuth);
        w.Blob(_endorsementAuth);
        w.Blob(_lockoutAuth);
        w.Blob(_platformAuth);
        w.Blob(_ownerProof);
        w.Blob(_endorsementProof);
        w.Blob(_platformProof);
        w.Blob(_ownerSeed);
        w.Blob(_endorsementSeed);
        w.Blob(_platformSeed);
        w.U32(_failedTries);
        w.Bool(_disableClear);
        w.U64(_maxCounter);
        w.U32(_resetCount);
        w.U32(_restartCount);
        w.Bool(_savedPcrs is not null);
        if (_savedPcrs is not null)
        {
            w.Blob(_savedPcrs);
        }

        w.U32((uint)_nv.Count);
        foreach (NvIndex index in _nv.Values)
        {
            w.U32(index.Handle);
            w.U16(index.NameAlg);
            w.U32(index.Attributes);
            w.Blob(index.AuthPolicy);
            w.U16(index.DataSize);
            w.Blob(index.Auth);
            w.Blob(index.Data);
        }
    }

    private void RestorePersistent(byte[] blob)
    {
        var r = new BlobReader(blob);
        if (r.U32("magic") != PersistentMagic || r.U16("version") != PersistentVersion)
        {
            throw new InvalidDataException("vTPM state file: not a persistent state blob of version 1");
        }

        ReadPersistent(ref r);
        if (r.Remaining != 0)
        {
            throw new InvalidDataException($"vTPM state file: {r.Remaining} bytes after the end");
        }
    }

    private void ReadPersistent(ref BlobReader r)
    {
        _ownerAuth = r.Blob("ownerAuth");
        _endorsementAuth = r.Blob("endorsementAuth");
        _lockoutAuth = r.Blob("lockoutAuth");
        _platformAuth = r.Blob("platformAuth");
        _ownerProof = r.Blob("ownerProof");
        _endorsementProof = r.Blob("endorsementProof");
        _platformProof = r.Blob("platformProof");
        _ownerSeed = r.Blob("ownerSeed");
        _endorsementSeed = r.Blob("endorsementSeed");
        _platformSeed = r.Blob("platformSeed");
        _failedTries = r.U32("failedTries");
        _disableClear = r.Bool("disableClear");
        _maxCounter = r.U64("maxCounter");
        _resetCount = r.U32("resetCount");
        _restartCount = r.U32("restartCount");
        _savedPcrs = r.Bool("hasSavedPcrs") ? r.Blob("savedPcrs") : null;
        if (_savedPcrs is not null && _savedPcrs.Length != SerializePcrs().Length)
        {
            throw new InvalidDataException("vTPM state: saved PCR block has the wrong size");
        }

        _nv.Clear();
        uint count = r.U32("nvCount");
        for (uint i = 0; i < count; i++)
        {
            uint handle = r.U32("nv.handle");
            ushort nameAlg = r.U16("nv.nameAlg");
            uint attributes = r.U32("nv.attributes");
            byte[] policy = r.Blob("nv.authPolicy");
            ushort dataSize = r.U16("nv.dataSize");
            byte[] auth = r.Blob("nv.auth");
            byte[] data = r.Blob("nv.data");
            if (data.Length != dataSize || !HashAlgorithms.IsSupported(nameAlg))
            {
                throw new InvalidDataException($"vTPM state: NV index 0x{handle:x8} is inconsistent");
            }

            _nv[handle] = new NvIndex { Handle = handle, NameAlg = nameAlg, Attributes = attributes, AuthPolicy = policy, DataSize = dataSize, Auth = auth, Data = data };
        }
    }
}
