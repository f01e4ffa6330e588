namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>How a test frame is tagged in front of its EtherType.</summary>
public enum TagMode
{
    None,
    Vlan,
    QinQ,
    DoubleVlan,
}
