using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// Akka's serializer of its own small messages (Identify, remote-watch heartbeats, PoisonPill, Kill, ...), except that
/// it refuses to read from the wire the messages that stop or restart an actor. Untrusted mode drops PoisonPill, but
/// Kill and IntentionalRestart are not marked harmful in Akka.NET and would reach any actor a peer names; nothing here
/// ever sends them to another node, so refusing them costs nothing.
/// </summary>
public sealed class GuardedMiscSerializer : SerializerWithStringManifest
{
    private static readonly HashSet<string> Refused = new(StringComparer.Ordinal) { "PP", "K", "IR" };
    private readonly MiscMessageSerializer _inner;

    public GuardedMiscSerializer(ExtendedActorSystem system)
        : base(system)
    {
        _inner = new MiscMessageSerializer(system);
    }

    public override int Identifier => _inner.Identifier;

    public override string Manifest(object o) => _inner.Manifest(o);

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) => Refused.Contains(manifest)
        ? throw new SerializationException($"Refusing a remote {(manifest == "PP" ? "PoisonPill" : manifest == "K" ? "Kill" : "restart")}: no peer may stop or restart this node's actors.")
        : _inner.FromBinary(bytes, manifest);
}

/// <summary>
/// Akka's serializer of system messages, reading from the wire only those remote death watch uses (Watch, Unwatch,
/// the notification of a death). The others (Terminate, Create, Recreate, Suspend, Resume, Supervise, Failed) are
/// what a parent sends its remote-deployed children, which this node never has: from a peer they would stop, suspend
/// or restart the actor they name.
/// </summary>
public sealed class GuardedSystemMessageSerializer : Serializer
{
    private readonly SystemMessageSerializer _inner;

    public GuardedSystemMessageSerializer(ExtendedActorSystem system)
        : base(system)
    {
        _inner = new SystemMessageSerializer(system);
    }

    public override int Identifier => _inner.Identifier;

    public override bool IncludeManifest => _inner.IncludeManifest;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type type) =>
        type == typeof(Watch) || type == typeof(Unwatch) || type == typeof(DeathWatchNotification)
            ? _inner.FromBinary(bytes, type)
            : throw new SerializationException($"Refusing a remote system message {type?.Name ?? "of no type"}: peers may only watch this node's actors.");
}
