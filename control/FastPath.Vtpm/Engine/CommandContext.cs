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

    /// <summary>Set by HierarchyChangeAuth/NV_UndefineSpace and others: the entity whose auth value keys the
    /// response HMAC, read after the command ran (Part 1, 19.6.17: the new auth value of a changed entity).</summary>
    public bool AuthChanged;
}
