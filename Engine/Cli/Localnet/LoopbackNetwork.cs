using System.Globalization;
using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>What a network written by <see cref="LoopbackNetwork.Write"/> runs.</summary>
public sealed record LoopbackNetworkOptions
{
    public required int Validators { get; init; }

    /// <summary>The node's application: opaque (signed counters), noop, or idos.</summary>
    public string Application { get; init; } = "opaque";

    /// <summary>The name under which every node lists the one RPC member whose certificate the network makes.</summary>
    public string RpcMemberName { get; init; } = "local client";

    /// <summary>HOCON in every node's file above the network's own keys (files, ports, seeds), which it cannot change.</summary>
    public string Overrides { get; init; } = "";

    /// <summary>
    /// Each node binds a port of its own and advertises another (Akka's public-port), where a fault proxy is to
    /// listen: <see cref="LoopbackNetwork.Ports"/> are the advertised ones, <see cref="LoopbackNetwork.BackendPorts"/>
    /// the bound ones.
    /// </summary>
    public bool BehindProxies { get; init; }

    /// <summary>Blocks between state snapshots, written into the genesis the network makes.</summary>
    public long SnapshotInterval { get; init; } = Consensus.ChainParameters.DefaultSnapshotInterval;

    /// <summary>Nodes written after the genesis validators, with keys genesis does not list: they join through governance.</summary>
    public int Joiners { get; init; }
}

/// <summary>
/// A network of validators on 127.0.0.1 written into a folder, for the tools that run one on a single machine (the
/// process tests and the cluster benchmark; localnet runs the node files an operator keeps in hocon/localnet): one
/// node file per validator on loopback ports picked free for this process, each node with its own data folder and
/// key, the shared genesis, the idOS owner key and one RPC member's certificate. Nodes list the first two as seeds, as
/// an operator would. Keys, certificates and genesis are made by <see cref="Prepare"/>, so that a caller may make
/// some of them another way in between (the CLI's keygen and genesis commands, say).
/// </summary>
public sealed class LoopbackNetwork
{
    private readonly long _snapshotInterval;

    private LoopbackNetwork(string root, IReadOnlyList<int> ports, IReadOnlyList<int> backendPorts, IReadOnlyList<string> configPaths, long snapshotInterval)
    {
        _snapshotInterval = snapshotInterval;
        Root = root;
        Ports = ports;
        BackendPorts = backendPorts;
        ConfigPaths = configPaths;
    }

    public string Root { get; }

    /// <summary>The port each node is known by: its address in seeds, in the cluster and to clients.</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>The port each node binds: the same as <see cref="Ports"/> unless the network is behind proxies.</summary>
    public IReadOnlyList<int> BackendPorts { get; }

    /// <summary>The loopback port of each node's metrics and health listener.</summary>
    public IReadOnlyList<int> MetricsPorts { get; private init; } = [];

    /// <summary>The loopback port of each node's admin JSON-RPC.</summary>
    public IReadOnlyList<int> AdminPorts { get; private init; } = [];

    public IReadOnlyList<string> ConfigPaths { get; }

    public string GenesisFile => Path.Combine(Root, "genesis.json");

    /// <summary>The ed25519 key of the idOS database owner named in genesis.</summary>
    public string OwnerKeyFile => Path.Combine(Root, "owner.key");

    /// <summary>The TLS certificate of the RPC member every node lists (its key is beside it), which the network's clients and RPC systems present.</summary>
    public string RpcCertificate => Path.Combine(Root, "rpc", TlsFiles.CertificateFileName);

    public string DataDirectory(int validator) => Path.Combine(Root, $"node{validator + 1}");

    public string KeyFile(int validator) => Path.Combine(DataDirectory(validator), "validator.key");

    /// <summary>Writes the node files of a new network into <paramref name="root"/>, which exists and is empty.</summary>
    public static LoopbackNetwork Write(string root, LoopbackNetworkOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Validators, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Joiners);
        var count = options.Validators + options.Joiners;
        var picked = LocalPorts.Free(options.BehindProxies ? 4 * count : 3 * count);
        var ports = picked[..count];
        var metricsPorts = picked[count..(2 * count)];
        var adminPorts = picked[(2 * count)..(3 * count)];
        var backendPorts = options.BehindProxies ? picked[(3 * count)..] : ports;
        // Written as an operator may write them; each node dials them with the scheme its transport speaks (TLS, the throttler).
        var seeds = string.Join(", ", ports.Take(2).Select(p => $"\"akka.tcp://{ValidatorNode.SystemName}@127.0.0.1:{p}\""));
        var network = new LoopbackNetwork(root, ports, backendPorts, [.. Enumerable.Range(1, count).Select(n => Path.Combine(root, $"node{n}.conf"))],
            options.SnapshotInterval) { MetricsPorts = metricsPorts, AdminPorts = adminPorts };
        for (var i = 0; i < count; i++)
        {
            var advertised = options.BehindProxies
                ? $"akka.remote.dot-netty.tcp.public-hostname = \"127.0.0.1\"\nakka.remote.dot-netty.tcp.public-port = {ports[i]}"
                : "";
            File.WriteAllText(network.ConfigPaths[i], string.Create(CultureInfo.InvariantCulture, $$"""
                akka.cluster.seed-node-timeout = 2s
                akka.cluster.retry-unsuccessful-join-after = 2s
                akka.loglevel = WARNING
                idos.node.application = {{options.Application}}
                {{options.Overrides}}
                idos.node {
                  key-file = "{{network.KeyFile(i)}}"
                  genesis-file = "{{network.GenesisFile}}"
                  data-directory = "{{network.DataDirectory(i)}}"
                  rpc-members = [{ name = "{{options.RpcMemberName}}", certificate-file = "{{network.RpcCertificate}}" }]
                  metrics.port = {{metricsPorts[i]}}
                  admin.listen = "127.0.0.1:{{adminPorts[i]}}"
                }
                akka.remote.dot-netty.tcp.port = {{backendPorts[i]}}
                {{advertised}}
                akka.cluster.seed-nodes = [{{seeds}}]
                {{(i >= options.Validators ? "idos.node.joined-by-governance = on" : "")}}
                """));
        }

        return network;
    }

    /// <summary>
    /// Makes the keys, certificates and genesis the node files name and do not exist yet, and returns the chain with
    /// how the network's clients connect: as its RPC member, over TLS unless the nodes run insecure.
    /// </summary>
    public (ChainParameters Chain, TransportSecurity Transport) Prepare(string chainId)
    {
        var configs = ConfigPaths.Select(NodeConfig.Load).ToList();
        return (LocalNetwork.Prepare(configs, chainId, OwnerKeyFile, _snapshotInterval), LocalNetwork.MemberTransport(configs[0]));
    }

    public IReadOnlyList<Address> Addresses(TransportSecurity transport) =>
        [.. Ports.Select(port => NodeClient.NodeAddress("127.0.0.1", port, transport))];

    /// <summary>
    /// Writes the file of an RPC system in front of the validators (`rpc --config`), listening on 127.0.0.1:<paramref
    /// name="port"/> as the network's RPC member; <paramref name="overrides"/> go inside its idos.rpc section.
    /// </summary>
    public string WriteRpcConfig(int port, TransportSecurity transport, string overrides = "")
    {
        ArgumentNullException.ThrowIfNull(transport);
        var path = Path.Combine(Root, "rpc.conf");
        var validators = string.Join(", ", Addresses(transport).Select(a => $"\"{a}\""));
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $$"""
            idos.rpc {
              listen = "127.0.0.1:{{port}}"
              validators = [{{validators}}]
              genesis-file = "{{GenesisFile}}"
              tls.certificate-file = "{{RpcCertificate}}"
              insecure = {{(transport.IsTls ? "off" : "on")}}
              {{overrides}}
            }
            akka.loglevel = WARNING
            """));
        return path;
    }
}
