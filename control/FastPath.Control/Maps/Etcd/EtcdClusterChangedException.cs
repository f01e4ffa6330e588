namespace FastPath.Control.Maps.Etcd;

/// <summary>An endpoint answered for another cluster than the one the table came from: the follower stops, the table stays.</summary>
public sealed class EtcdClusterChangedException(string message) : Exception(message);
