using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using FastPath.Control.Config;
using Grpc.Core;
using Grpc.Net.Client;

namespace FastPath.Control.Maps.Etcd;

/// <summary>
/// The one seam to etcd: a gRPC channel per member (dotnet-etcd's generated v3 clients over Grpc.Net.Client), the
/// member in use, and a unary call that moves to the next member when one does not answer.
/// </summary>
/// <remarks>
/// Thread-safe: channels are created once; the current member index is read and moved with Interlocked.
/// dotnet-etcd's <c>EtcdClient</c> facade (dependency injection, its own watch manager) is not used: the follower
/// needs revision-exact ranges, watch cancellation reasons and progress requests, which the generated clients give
/// directly, and the generated code is plain protobuf (no reflection), so the NativeAOT binary stays warning-free.
/// </remarks>
public sealed class EtcdConnection : IDisposable
{
    /// <summary>Deadline of one unary request.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Largest response the client accepts (a snapshot page is far below it).</summary>
    private const int MaxReceiveBytes = 64 << 20;

    private readonly GrpcChannel[] _channels;
    private int _current;

    /// <summary>Opens (lazily: nothing connects yet) channels to every endpoint of <paramref name="config"/>.</summary>
    public EtcdConnection(EtcdMapsConfig config)
    {
        Config = config;
        _channels = [.. config.Endpoints.Select(endpoint => GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = Handler(config),
            MaxReceiveMessageSize = MaxReceiveBytes,
            DisposeHttpClient = true,
        }))];
    }

    /// <summary>The configuration it was opened with.</summary>
    public EtcdMapsConfig Config { get; }

    /// <summary>The member requests go to now.</summary>
    public Uri CurrentEndpoint => Config.Endpoints[Volatile.Read(ref _current) % _channels.Length];

    /// <summary>The channel of the member in use.</summary>
    public GrpcChannel Channel => _channels[Volatile.Read(ref _current) % _channels.Length];

    /// <summary>Moves to the next member (after a failure on this one).</summary>
    public void Rotate() => Interlocked.Increment(ref _current);

    /// <summary>
    /// Runs a unary call on the current member, then on each other member in turn while they fail as unreachable;
    /// any other gRPC status is the answer and is thrown as is.
    /// </summary>
    /// <exception cref="RpcException">No member answered (the last member's failure), or the call failed.</exception>
    public async Task<T> CallAsync<T>(Func<CallInvoker, CallOptions, Task<T>> call, CancellationToken cancellation)
    {
        RpcException? last = null;
        for (int attempt = 0; attempt < _channels.Length; attempt++)
        {
            GrpcChannel channel = Channel;
            try
            {
                return await call(channel.CreateCallInvoker(), new CallOptions(deadline: DateTime.UtcNow + RequestTimeout, cancellationToken: cancellation)).ConfigureAwait(false);
            }
            catch (RpcException error) when (IsUnreachable(error) && !cancellation.IsCancellationRequested)
            {
                last = error;
                Rotate();
            }
        }

        throw last!;
    }

    /// <summary>A range (or one key) on the current member.</summary>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation) =>
        CallAsync((invoker, options) => new KV.KVClient(invoker).RangeAsync(request, options).ResponseAsync, cancellation);

    /// <summary>A transaction on the current member.</summary>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellation) =>
        CallAsync((invoker, options) => new KV.KVClient(invoker).TxnAsync(request, options).ResponseAsync, cancellation);

    /// <summary>Whether <paramref name="error"/> means "this member did not answer" (try another), not "it said no".</summary>
    public static bool IsUnreachable(RpcException error) =>
        error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled;

    /// <summary>One line for logs and stats: the status and what etcd or the transport said.</summary>
    public static string Describe(Exception error) => error switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {(rpc.Status.DebugException?.InnerException ?? rpc.Status.DebugException)?.Message ?? rpc.Status.Detail}",
        _ => error.Message,
    };

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }
    }

    private static SocketsHttpHandler Handler(EtcdMapsConfig config)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = config.DialTimeout,
            // A member that vanishes without a reset (a cut link) is noticed by HTTP/2 pings, not by a stuck watch.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        if (config.CertFile is string cert)
        {
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert, config.KeyFile)];
        }

        if (config.CaFile is string ca)
        {
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(ca);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trust);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        }

        return handler;
    }
}
