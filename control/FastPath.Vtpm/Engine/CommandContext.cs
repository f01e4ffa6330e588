namespace FastPath.Vtpm.Engine;

/// <summary>One command being executed: its code, handles, parameter reader, and the response's handle and
/// parameters as the handler produces them.</summary>
/// <remarks>A ref struct on the executing thread's stack; not shared.</remarks>
internal ref struct CommandContext
{
    public uint Code;
    public uint Handle0;
    public uint Handle1;
    public TpmReader Parameters;
    public TpmWriter Response;
    public uint ResponseHandle;
}
