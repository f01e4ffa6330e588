namespace FastPath.Control.Maps.Etcd;

/// <summary>etcd no longer holds the revision the follower needs: it takes a new snapshot.</summary>
public sealed class EtcdCompactedException(string message) : Exception(message);
