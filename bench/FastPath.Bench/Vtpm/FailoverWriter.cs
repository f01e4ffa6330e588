using System.Diagnostics;
using System.Net.Sockets;

namespace FastPath.Bench.Vtpm;

/// <summary>The failover run's client: on its own thread, alternates NV_Write (32 changing bytes) and PCR_Extend
/// on one persistent connection as fast as the pair acknowledges them; reconnects (counted) on a connection
/// error and sends the same command again, sends it again on TPM_RC_RETRY (counted as not acknowledged), counts
/// any other failure code, and records when the first command after an armed instant completed.</summary>
/// <remarks>The writer thread owns the socket and the command buffers; the harness thread only calls
/// <see cref="Arm"/>, <see cref="FirstSuccessAfterArm"/> and the counters (all through Interlocked/Volatile),
/// and reads the rest after <see cref="Stop"/> joined the thread.</remarks>
internal sealed class FailoverWriter : IDisposable
{
    private static readonly TimeSpan ReconnectLimit = TimeSpan.FromSeconds(10);

    private readonly int _port;
    private readonly byte[] _nvWrite = TpmWire.NvWrite(new byte[TpmWire.NvSize]);
    private readonly byte[] _pcrExtend = TpmWire.PcrExtendSha256(16);
    private readonly byte[] _response = new byte[TpmWire.ResponseBufferSize];
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _armedAt;
    private long _firstSuccessAfterArm;
    private long _acknowledged;
    private Socket? _socket;

    public FailoverWriter(int port)
    {
        _port = port;
        _thread = new Thread(Loop) { IsBackground = true, Name = "vtpm-failover-writer" };
    }

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long NvWritesAcknowledged { get; private set; }

    public long PcrExtendsAcknowledged { get; private set; }

    /// <summary>Connections lost (and opened again).</summary>
    public long Reconnects { get; private set; }

    /// <summary>TPM_RC_RETRY answers: not acknowledged, sent again.</summary>
    public long Retried { get; private set; }

    /// <summary>Other failure codes → count (the command is not acknowledged and not sent again).</summary>
    public Dictionary<uint, long> Failures { get; } = [];

    /// <summary>The counter stamped into the last acknowledged NV_Write's data (0: the initial all-zero data).</summary>
    public uint LastAcknowledgedNvCounter { get; private set; }

    /// <summary>Why the writer stopped on its own (a reconnect that did not succeed within 10 s), or null.</summary>
    public string? Fault { get; private set; }

    public bool IsRunning => _thread.IsAlive;

    public void Start() => _thread.Start();

    /// <summary>From now on, the first command completing after <paramref name="timestamp"/> is recorded.</summary>
    public void Arm(long timestamp)
    {
        Interlocked.Exchange(ref _firstSuccessAfterArm, 0);
        Interlocked.Exchange(ref _armedAt, timestamp);
    }

    /// <summary>The Stopwatch timestamp of the first acknowledgement after the armed instant, or 0 while there is none.</summary>
    public long FirstSuccessAfterArm => Interlocked.Read(ref _firstSuccessAfterArm);

    /// <summary>Stops after the next acknowledged NV_Write (so the last acknowledged data is known exactly) and
    /// joins the thread; false if it did not stop within <paramref name="timeout"/>.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _stop = true;
        return _thread.Join(timeout);
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(15));
        _socket?.Dispose();
    }

    private void Loop()
    {
        uint counter = 0;
        bool nvTurn = true;
        while (true)
        {
            byte[] command = nvTurn ? _nvWrite : _pcrExtend;
            if (nvTurn)
            {
                TpmWire.StampNvWrite(_nvWrite, ++counter);
            }

            uint code;
            while (true)
            {
                if (!TrySend(command, out code))
                {
                    return;
                }

                if (code != TpmWire.Retry)
                {
                    break;
                }

                Retried++;
            }

            if (code == TpmWire.Success)
            {
                long now = Stopwatch.GetTimestamp();
                long armed = Interlocked.Read(ref _armedAt);
                if (armed != 0 && now > armed)
                {
                    Interlocked.CompareExchange(ref _firstSuccessAfterArm, now, 0);
                }

                Interlocked.Increment(ref _acknowledged);
                if (nvTurn)
                {
                    NvWritesAcknowledged++;
                    LastAcknowledgedNvCounter = counter;
                    if (_stop)
                    {
                        return;
                    }
                }
                else
                {
                    PcrExtendsAcknowledged++;
                }
            }
            else
            {
                Failures[code] = Failures.GetValueOrDefault(code) + 1;
            }

            nvTurn = !nvTurn;
        }
    }

    /// <summary>One round trip; on a connection error reconnects (bounded) and sends the same command again.
    /// False when no connection could be had within <see cref="ReconnectLimit"/>.</summary>
    private bool TrySend(byte[] command, out uint code)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(ReconnectLimit.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                _socket ??= TpmWire.Connect(_port);
                code = TpmWire.RoundTrip(_socket, command, _response);
                return true;
            }
            catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
            {
                if (_socket is not null)
                {
                    Reconnects++;
                    _socket.Dispose();
                    _socket = null;
                }

                if (Stopwatch.GetTimestamp() > deadline)
                {
                    Fault = $"no answer from 127.0.0.1:{_port} for {ReconnectLimit.TotalSeconds} s: {exception.Message}";
                    code = 0;
                    return false;
                }

                Thread.Sleep(5);
            }
        }
    }
}
