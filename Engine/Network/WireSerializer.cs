using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Persistence;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// Akka's serializer for everything consensus sends between nodes or journals: the canonical codec that signing
/// uses, so what a peer receives is byte for byte what was signed. Bound in hocon/node.conf. Bytes that do not decode become a
/// <see cref="SerializationException"/>, which Akka.Remote treats as transient: it drops the message and keeps the
/// association, where any other exception would tear the connection down.
/// </summary>
public sealed class WireSerializer : SerializerWithStringManifest
{
    /// <summary>Akka reserves 0–100; this one is ours for good, since it is written into every frame.</summary>
    public const int Id = 701;

    private readonly ConsensusLimits _limits;

    public WireSerializer(ExtendedActorSystem system)
        : base(system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _limits = LimitsFrom(system.Settings.Config);
    }

    public WireSerializer(ExtendedActorSystem system, Config config)
        : this(system)
    {
    }

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        PeerHello => "H",
        MemberHello => "MH",
        QueryAccessAnswer => "QA",
        NodeMessage node => NodeMessageCodec.Manifest(node),
        SafetyStateRecorded => "SS",
        BlockKept => "BK",
        Proposal => "P",
        Vote => "V",
        TimeoutVote => "T",
        RoundSync => "RS",
        EpochEnd => "EE",
        EpochEndRequest => "EQ",
        BlockRequest => "BQ",
        BlockResponse => "BR",
        BlockRangeRequest => "BGQ",
        BlockRangeResponse => "BGR",
        HeaderRangeRequest => "HGQ",
        HeaderRangeResponse => "HGR",
        _ => throw new SerializationException($"{o?.GetType().FullName ?? "null"} is not a wire message."),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        ConsensusMessage message => ConsensusCodec.Encode(message),
        SafetyStateRecorded recorded => ConsensusCodec.EncodeSafetyState(recorded.State),
        BlockKept kept => ConsensusCodec.EncodeBlock(kept.Block),
        PeerHello hello => hello.Encode(),
        MemberHello hello => hello.Encode(),
        QueryAccessAnswer access => access.Encode(),
        NodeMessage node => NodeMessageCodec.Encode(node),
        _ => throw new SerializationException($"{obj?.GetType().FullName ?? "null"} is not a wire message."),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        switch (manifest)
        {
            case "SS":
                return ConsensusCodec.TryDecodeSafetyState(bytes, _limits, out var state, out var stateError)
                    ? new SafetyStateRecorded(state)
                    : throw new SerializationException($"Undecodable safety state: {stateError}");
            case "H":
                return PeerHello.TryDecode(bytes, out var hello, out var helloError)
                    ? hello
                    : throw new SerializationException($"Undecodable hello: {helloError}");
            case "MH":
                return MemberHello.TryDecode(bytes, out var memberHello, out var memberError)
                    ? memberHello
                    : throw new SerializationException($"Undecodable member hello: {memberError}");
            case "QA":
                return QueryAccessAnswer.TryDecode(bytes, out var access, out var accessError)
                    ? access
                    : throw new SerializationException($"Undecodable query access answer: {accessError}");
            case "BK":
                return ConsensusCodec.TryDecodeBlock(bytes, _limits, out var block, out var blockError)
                    ? new BlockKept(block)
                    : throw new SerializationException($"Undecodable kept block: {blockError}");
            default:
                break;
        }

        if (NodeMessageCodec.Manifests.Contains(manifest))
        {
            return NodeMessageCodec.TryDecode(manifest, bytes, _limits, out var node, out var nodeError)
                ? node
                : throw new SerializationException($"Undecodable {manifest} message: {nodeError}");
        }

        if (!ConsensusCodec.TryDecode(bytes, _limits, out var message, out var error))
        {
            throw new SerializationException($"Undecodable {manifest} message: {error}");
        }

        return Manifest(message) == manifest
            ? message
            : throw new SerializationException($"Manifest {manifest} does not match the {message.GetType().Name} in the bytes.");
    }

    /// <summary>The node's own limits when its config has them (every node must agree), the protocol defaults otherwise.</summary>
    private static ConsensusLimits LimitsFrom(Config config) =>
        config.HasPath(Hosting.ConsensusSettings.Section) ? Hosting.ConsensusSettings.FromConfig(config).Limits : ConsensusLimits.Default;
}

/// <summary>
/// Takes the place of Akka's default JSON serializer (id 1). Akka deserializes an inbound payload by the serializer id
/// in the frame before any other check, and the default JSON serializer honours type names, so any peer that can open
/// a TCP connection could otherwise make a node instantiate types of its choosing. Every message we send has its own
/// binding; nothing may fall back to JSON in either direction.
/// </summary>
public sealed class RefuseJsonSerializer : Serializer
{
    public RefuseJsonSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public RefuseJsonSerializer(ExtendedActorSystem system, Config config)
        : base(system)
    {
    }

    public override int Identifier => 1;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"Refusing to serialize {obj?.GetType().FullName ?? "null"} as JSON: bind it to a serializer.");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException("Refusing a JSON payload from the wire.");
}
