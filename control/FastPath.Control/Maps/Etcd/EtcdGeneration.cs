namespace FastPath.Control.Maps.Etcd;

/// <summary>The generation <c>P/gen</c> names, read at <paramref name="Revision"/> of cluster <paramref name="ClusterId"/>.</summary>
/// <param name="Id">The generation id.</param>
/// <param name="Exists">Whether <c>P/gen</c> exists (false: <see cref="EtcdKeys.InitialGeneration"/>, before any import).</param>
/// <param name="Revision">The store revision the read saw.</param>
/// <param name="ClusterId">The cluster that answered.</param>
/// <remarks>Immutable.</remarks>
public readonly record struct EtcdGeneration(string Id, bool Exists, long Revision, ulong ClusterId);
