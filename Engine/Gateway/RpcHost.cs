using System.Net;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Rpc.Explorer;
using IdOS.Akka.Engine.Rpc.Http;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Rpc.Services;
using IdOS.Akka.Engine.Rpc.Verification;

namespace IdOS.Akka.Engine.Gateway;

/// <summary>
/// The RPC system's settings (hocon/rpc.conf), checked before anything starts.
/// </summary>
public sealed record RpcSettings(IPEndPoint Listen, IReadOnlyList<Address> Validators, int MaxBodyBytes, TimeSpan RequestTimeout, TimeSpan CommitTimeout,
    TimeSpan AskTimeout)
{
    public const string Section = "idos.rpc";

    /// <summary>How it reaches the validators: mutual TLS with its certificate and their genesis pins, unless insecure.</summary>
    public required TransportSecurity Transport { get; init; }

    /// <summary>Signature verifier actors (and their threads).</summary>
    public int Verifiers { get; init; } = Environment.ProcessorCount;

    public ReadBatchSettings ReadBatching { get; init; } = ReadBatchSettings.Default;

    /// <summary>Where this system's Akka.Remote listens (validators answer over the connection it opened); port 0 lets the OS choose.</summary>
    public string RemoteHostname { get; init; } = "127.0.0.1";

    public int RemotePort { get; init; }

    /// <summary>Akka's log level for this system; the localnet, which prints its own status, asks for ERROR only.</summary>
    public string LogLevel { get; init; } = "WARNING";

    /// <summary>Private mode: every user.call signed over a fresh challenge; otherwise reads as a sender need a KGW session.</summary>
    public bool PrivateMode { get; init; }

    public TimeSpan ChallengeExpiry { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Per client address: broadcasts, and challenges (user.challenge, kgw.authn_param), a second and in a burst.</summary>
    public (double PerSecond, int Burst) WriteLimit { get; init; } = (100, 200);

    public (double PerSecond, int Burst) ChallengeLimit { get; init; } = (10, 20);

    /// <summary>Where clients reach the endpoint, when a proxy in front terminates TLS: https makes the session cookie Secure.</summary>
    public Uri? PublicUrl { get; init; }

    /// <summary>Origins whose pages may read with the visitor's KGW cookie; empty for any origin without credentials (kwild's default).</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Where `GET /metrics` and `GET /health` answer on a listener of their own (idos.rpc.metrics-listen); null: off.</summary>
    public IPEndPoint? MetricsListen { get; init; }

    /// <summary>
    /// The explorer page at `/` and its `explorer.*` methods (idos.rpc.explorer); on unless the system runs in private
    /// mode, whose operators choose to show the chain.
    /// </summary>
    public bool Explorer { get; init; } = true;

    /// <summary>Per client address: the explorer's reads of blocks and transactions, a second and in a burst (a page polls once a second).</summary>
    public (double PerSecond, int Burst) ExplorerLimit { get; init; } = (20, 40);

    /// <summary>
    /// Reads the settings; the localnet passes its own <paramref name="validators"/> and <paramref name="transport"/>
    /// (its member identity) instead of the configuration's.
    /// </summary>
    public static RpcSettings FromConfig(Config config, IReadOnlyList<Address>? validators = null, TransportSecurity? transport = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var listen = config.GetString($"{Section}.listen", "127.0.0.1:8484");
        if (!IPEndPoint.TryParse(listen, out var endpoint))
        {
            throw new ConfigurationException($"{Section}.listen \"{listen}\" is not an IP address and port such as 127.0.0.1:8484.");
        }

        transport ??= TransportSettings.ForRpc(config, Section);
        var addresses = validators ?? [.. (config.HasPath($"{Section}.validators") ? config.GetStringList($"{Section}.validators") : []).Select(text =>
        {
            try
            {
                return Address.Parse(text);
            }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                throw new ConfigurationException($"{Section}.validators holds \"{text}\", which is not a node address: {e.Message}");
            }
        }).Select(address => transport.Dialed(address, config))];
        if (addresses.Count == 0)
        {
            throw new ConfigurationException($"{Section}.validators is empty: list the validators' node addresses.");
        }

        var maxBody = config.GetByteSize($"{Section}.max-body-bytes") ?? 4L << 20;
        var verifiers = config.GetString($"{Section}.verifiers", "auto");
        var settings = new RpcSettings(endpoint, addresses, (int)Math.Clamp(maxBody, 1024, 64L << 20),
            config.GetTimeSpan($"{Section}.request-timeout", TimeSpan.FromSeconds(60)),
            config.GetTimeSpan($"{Section}.commit-timeout", TimeSpan.FromSeconds(30)),
            config.GetTimeSpan($"{Section}.ask-timeout", TimeSpan.FromSeconds(5)))
        {
            Transport = transport,
            Verifiers = verifiers == "auto" ? Environment.ProcessorCount
                : int.TryParse(verifiers, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 256 ? count
                : throw new ConfigurationException($"{Section}.verifiers is \"{verifiers}\"; it is auto (one per core) or a count from 1 to 256."),
            ReadBatching = ReadBatchSettings.FromConfig(config, $"{Section}.read-batching"),
            // cluster-* are the names from when the RPC system was a cluster member.
            RemoteHostname = config.GetString($"{Section}.remote-hostname", config.GetString($"{Section}.cluster-hostname", "127.0.0.1")),
            RemotePort = config.GetInt($"{Section}.remote-port", config.GetInt($"{Section}.cluster-port", 0)),
            PrivateMode = config.GetString($"{Section}.mode", "kgw") switch
            {
                "kgw" => false,
                "private" => true,
                var other => throw new ConfigurationException($"{Section}.mode is \"{other}\"; it is kgw (sessions, the default) or private (a signed challenge per call)."),
            },
            ChallengeExpiry = config.GetTimeSpan($"{Section}.challenge-expiry", TimeSpan.FromSeconds(10)),
            WriteLimit = Limit(config, "writes", (100, 200)),
            ChallengeLimit = Limit(config, "challenges", (10, 20)),
            PublicUrl = PublicUrlOf(config),
            CorsOrigins = config.HasPath($"{Section}.cors-origins") ? [.. config.GetStringList($"{Section}.cors-origins").Where(o => o != "*")] : [],
            MetricsListen = MetricsListenOf(config),
            ExplorerLimit = Limit(config, "explorer-reads", (20, 40)),
        };
        return settings with { Explorer = config.HasPath($"{Section}.explorer") ? config.GetBoolean($"{Section}.explorer") : !settings.PrivateMode };
    }

    private static IPEndPoint? MetricsListenOf(Config config)
    {
        var text = config.GetString($"{Section}.metrics-listen", "");
        return text.Length == 0 ? null
            : IPEndPoint.TryParse(text, out var endpoint) ? endpoint
            : throw new ConfigurationException($"{Section}.metrics-listen \"{text}\" is not an IP address and port such as 127.0.0.1:26670 (empty: off).");
    }

    private static Uri? PublicUrlOf(Config config)
    {
        var text = config.GetString($"{Section}.public-url", "");
        return text.Length == 0 ? null
            : Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url
            : throw new ConfigurationException($"{Section}.public-url \"{text}\" is not an http or https URL.");
    }

    private static (double PerSecond, int Burst) Limit(Config config, string what, (double PerSecond, int Burst) fallback)
    {
        var perSecond = config.GetDouble($"{Section}.rate-limits.{what}-per-second", fallback.PerSecond);
        var burst = config.GetInt($"{Section}.rate-limits.{what}-burst", fallback.Burst);
        return perSecond > 0 && burst >= 1
            ? (perSecond, burst)
            : throw new ConfigurationException($"{Section}.rate-limits.{what}: the rate must be above 0 and the burst at least 1.");
    }
}

/// <summary>
/// The RPC system: Kestrel and the Kwil JSON-RPC services in front, signatures checked in its verifier pool and reads
/// coalesced by its read batcher, and behind them an Akka.Remote client of the validators (it never votes and holds no
/// database). It is no member of the validators' cluster: membership would let it gossip about validators, and the
/// validators' pin guard drops cluster traffic from any connection that is not a validator's.
/// </summary>
public sealed class RpcHost : IAsyncDisposable
{
    public const string SystemName = "idos-rpc";

    private readonly ActorSystem _system;
    private readonly RpcHttpServer _server;
    private readonly MetricsHttpServer? _metrics;

    /// <summary>The RPC system serves while the validator it reaches is healthy; a validator's own verdict, or none answering.</summary>
    private static async Task<HealthReport> Health(ValidatorGateway gateway, CancellationToken cancel)
    {
        ChainSnapshot chain;
        try
        {
            chain = await gateway.Chain(cancel);
        }
        catch (RpcException e)
        {
            return HealthReport.Unhealthy($"no validator answers: {e.Message}");
        }

        return new HealthReport(chain.Unhealthy.Length == 0, $"the validator reached is not healthy: {chain.Unhealthy}", new System.Text.Json.Nodes.JsonObject
        {
            ["height"] = chain.Height,
            ["network_height"] = chain.NetworkHeight,
            ["peers"] = chain.PeerCount,
            ["syncing"] = chain.Syncing,
        });
    }

    private RpcHost(ActorSystem system, RpcHttpServer server, MetricsHttpServer? metrics)
    {
        _system = system;
        _server = server;
        _metrics = metrics;
    }

    public Uri Endpoint => new(_server.Address, RpcHttpServer.Path);

    /// <summary>Whether the explorer page is served at the endpoint's root.</summary>
    public bool Explorer { get; private init; }

    /// <summary>Where `/metrics` and `/health` answer on their own listener; null when it is off.</summary>
    public Uri? MetricsAddress => _metrics?.Address;

    /// <summary>This system's own Akka.Remote address.</summary>
    public Address RemoteAddress => ((ExtendedActorSystem)_system).Provider.DefaultAddress;

    public static async Task<RpcHost> Start(RpcSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = "{{settings.RemoteHostname}}"
            akka.remote.dot-netty.tcp.port = {{settings.RemotePort}}
            akka.loglevel = {{settings.LogLevel}}
            akka.log-dead-letters = off
            """).WithFallback(VerifierPool.DispatcherConfig(settings.Verifiers)).WithFallback(NodeConfig.Defaults);
        var system = settings.Transport.CreateSystem(SystemName, config, [.. settings.Validators]);
        try
        {
            var gateway = new ValidatorGateway(NodeClient.On(system, settings.Transport), settings.Validators, settings.AskTimeout);
            var verifiers = VerifierPool.Start(system, settings.Verifiers, Secp256k1.Recovery);
            var metrics = new RpcMetrics();
            var reads = ReadBatcher.Start(system, gateway, settings.ReadBatching, batchSent: metrics.BatchSent);
            // Results are asked for when a validator's execution feed says they exist; the poll only covers a feed
            // that is down or a validator asked before it executed the block.
            var broadcasts = new BroadcastSettings(settings.CommitTimeout, TimeSpan.FromSeconds(1));
            var executions = new ExecutionWaiter(gateway, broadcasts.PollInterval);
            system.ActorOf(ExecutionFeedActor.Props(settings.Validators, executions.OnExecuted), ExecutionFeedActor.Name);
            var service = new UserService(gateway, verifiers, reads, new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)),
                broadcasts, settings.PrivateMode, executions);
            var sessions = new KgwSessions(verifiers, TimeProvider.System, async cancel => (await gateway.Chain(cancel)).ChainId, TimeSpan.FromHours(1),
                secureCookies: settings.PublicUrl?.Scheme == Uri.UriSchemeHttps);
            var challenges = new ViewChallenges(TimeProvider.System, settings.ChallengeExpiry);
            var methods = service.Methods
                .Concat(new CallService(reads, sessions, settings.PrivateMode ? challenges : null, verifiers).Methods)
                .Concat(sessions.Methods).Concat(challenges.Methods).Concat(new ActionLookup(settings.PrivateMode).Methods)
                .Concat(settings.Explorer ? new ExplorerService(gateway, gateway, TimeProvider.System).Methods : [])
                .ToDictionary(StringComparer.Ordinal);
            var writes = new PerAddressRateLimit(settings.WriteLimit.PerSecond, settings.WriteLimit.Burst, TimeProvider.System);
            var challengeLimit = new PerAddressRateLimit(settings.ChallengeLimit.PerSecond, settings.ChallengeLimit.Burst, TimeProvider.System);
            methods["user.broadcast"] = writes.Guard(methods["user.broadcast"], "broadcasts");
            methods["user.challenge"] = challengeLimit.Guard(methods["user.challenge"], "challenges");
            methods["kgw.authn_param"] = challengeLimit.Guard(methods["kgw.authn_param"], "login challenges");
            if (settings.Explorer)
            {
                var explorerReads = new PerAddressRateLimit(settings.ExplorerLimit.PerSecond, settings.ExplorerLimit.Burst, TimeProvider.System);
                methods["explorer.blocks"] = explorerReads.Guard(methods["explorer.blocks"], "explorer reads");
                methods["explorer.block"] = explorerReads.Guard(methods["explorer.block"], "explorer reads");
                methods["explorer.tx"] = explorerReads.Guard(methods["explorer.tx"], "explorer reads");
            }

            metrics.Track(() => sessions.Count, () => verifiers.Outstanding);
            var dispatcher = new JsonRpcDispatcher(methods, settings.MaxBodyBytes, settings.RequestTimeout) { Metrics = metrics };
            Task<HealthReport> Healthy(CancellationToken cancel) => Health(gateway, cancel);
            var server = await RpcHttpServer.Start(settings.Listen, dispatcher, settings.MaxBodyBytes, settings.CorsOrigins, Healthy, settings.Explorer);
            try
            {
                var metricsServer = settings.MetricsListen is { } listen ? await MetricsHttpServer.Start(listen, metrics.Registry, Healthy) : null;
                return new RpcHost(system, server, metricsServer) { Explorer = settings.Explorer };
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await HandshakeFailureGuard.Stop(system, CoordinatedShutdown.ActorSystemTerminateReason.Instance);
            throw;
        }
    }

    /// <summary>Stops taking requests, then the system.</summary>
    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync();
        }

        await HandshakeFailureGuard.Stop(_system, CoordinatedShutdown.ActorSystemTerminateReason.Instance);
    }
}
