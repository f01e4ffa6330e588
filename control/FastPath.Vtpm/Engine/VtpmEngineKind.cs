namespace FastPath.Vtpm.Engine;

/// <summary>Which TPM 2.0 implementation an instance runs (<c>--engine</c>).</summary>
public enum VtpmEngineKind
{
    /// <summary>libtpms embedded in-process (the TCG reference code; every TPM 2.0 command libtpms supports).</summary>
    Libtpms,

    /// <summary>The earlier managed engine (a subset: no objects, no policies).</summary>
    Managed,
}
