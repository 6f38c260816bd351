using System.Net;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Rpc.Http;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Services;
using IdOS.Akka.Engine.Storage.Auth;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>The RPC system's settings (hocon/rpc.conf), checked before anything starts.</summary>
public sealed record RpcSettings(IPEndPoint Listen, IReadOnlyList<Address> Validators, int MaxBodyBytes, TimeSpan RequestTimeout, TimeSpan CommitTimeout,
    TimeSpan AskTimeout)
{
    public const string Section = "idos.rpc";

    public static RpcSettings FromConfig(Config config, IReadOnlyList<Address>? validators = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var listen = config.GetString($"{Section}.listen", "127.0.0.1:8484");
        if (!IPEndPoint.TryParse(listen, out var endpoint))
        {
            throw new ConfigurationException($"{Section}.listen \"{listen}\" is not an IP address and port such as 127.0.0.1:8484.");
        }

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
        })];
        if (addresses.Count == 0)
        {
            throw new ConfigurationException($"{Section}.validators is empty: list the validators' node addresses.");
        }

        var maxBody = config.GetByteSize($"{Section}.max-body-bytes") ?? 4L << 20;
        return new RpcSettings(endpoint, addresses, (int)Math.Clamp(maxBody, 1024, 64L << 20),
            config.GetTimeSpan($"{Section}.request-timeout", TimeSpan.FromSeconds(60)),
            config.GetTimeSpan($"{Section}.commit-timeout", TimeSpan.FromSeconds(30)),
            config.GetTimeSpan($"{Section}.ask-timeout", TimeSpan.FromSeconds(5)));
    }
}

/// <summary>The RPC system: Kestrel and the Kwil JSON-RPC service in front of the validators, through a node client.</summary>
public sealed class RpcHost : IAsyncDisposable
{
    private readonly NodeClient _client;
    private readonly RpcHttpServer _server;

    private RpcHost(NodeClient client, RpcHttpServer server)
    {
        _client = client;
        _server = server;
    }

    public Uri Endpoint => new(_server.Address, RpcHttpServer.Path);

    public static async Task<RpcHost> Start(RpcSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var client = NodeClient.Create();
        try
        {
            var gateway = new ValidatorGateway(client, settings.Validators, settings.AskTimeout);
            var service = new UserService(gateway, Secp256k1.Recovery, new PendingNonces(TimeProvider.System, TimeSpan.FromMinutes(2)),
                new BroadcastSettings(settings.CommitTimeout, TimeSpan.FromMilliseconds(50)));
            var sessions = new KgwSessions(Secp256k1.Recovery, TimeProvider.System, async cancel => (await gateway.Chain(cancel)).ChainId, TimeSpan.FromHours(1));
            var methods = service.Methods.Concat(new CallService(gateway, sessions).Methods).Concat(sessions.Methods).ToDictionary(StringComparer.Ordinal);
            var dispatcher = new JsonRpcDispatcher(methods, settings.MaxBodyBytes, settings.RequestTimeout);
            return new RpcHost(client, await RpcHttpServer.Start(settings.Listen, dispatcher, settings.MaxBodyBytes));
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _client.DisposeAsync();
    }
}
