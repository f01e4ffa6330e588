namespace FastPath.Dataplane.Pipeline;

/// <summary>Which environment a port faces: user ports carry tenant traffic, secure ports the translated side.</summary>
public enum PortSide
{
    /// <summary>Frames received here are translated user → secure.</summary>
    User,

    /// <summary>Frames received here are translated secure → user.</summary>
    Secure,
}
