namespace FastPath.Dataplane.Capture;

/// <summary>Which frames of a port a capture takes.</summary>
[Flags]
public enum CaptureDirection
{
    /// <summary>Frames received on the port, as they arrived (before translation).</summary>
    Rx = 1,

    /// <summary>Frames handed to the port's transmit, as they leave (after translation).</summary>
    Tx = 2,

    /// <summary>Both.</summary>
    Both = Rx | Tx,
}
