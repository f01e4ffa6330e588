namespace FastPath.Control.Config;

/// <summary>A user port and the secure port its traffic is translated to (and back), with the guest ports on its user side.</summary>
/// <param name="User">Name of the user-side port.</param>
/// <param name="Secure">Name of the secure-side port.</param>
/// <param name="Guests">Names of guest ports whose traffic goes through this pair's secure port (none: empty).</param>
public sealed record PairConfig(string User, string Secure, IReadOnlyList<string> Guests);
