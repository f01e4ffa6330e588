namespace FastPath.Control.Config;

/// <summary>A user port and the secure port its traffic is translated to (and back).</summary>
/// <param name="User">Name of the user-side port.</param>
/// <param name="Secure">Name of the secure-side port.</param>
public sealed record PairConfig(string User, string Secure);
