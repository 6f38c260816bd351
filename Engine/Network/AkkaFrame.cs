using System.Text;

namespace IdOS.Akka.Engine.Network;

/// <summary>What an Akka.Remote frame is, as far as <see cref="PinGuard"/> needs to know.</summary>
public enum AkkaFrameKind
{
    /// <summary>The association handshake, naming the address the peer claims to be.</summary>
    Associate,

    /// <summary>Heartbeats and disassociation notices.</summary>
    OtherControl,

    /// <summary>A message for an actor, with or without an acknowledgement beside it.</summary>
    Message,

    /// <summary>An acknowledgement alone.</summary>
    Acknowledgement,

    /// <summary>Bytes that do not read as the protocol, or that repeat a field Akka would merge.</summary>
    Unreadable,
}

/// <param name="Kind">What the frame is.</param>
/// <param name="Origin">The address an association handshake claims (host and port), else null.</param>
/// <param name="Target">
/// The path a message is for, below the address: the recipient's path with the elements of an actor selection
/// appended (`/system/cluster/core/daemon` whether sent to that actor or selected from the root); else null.
/// </param>
/// <param name="UnusualPath">
/// A selection that climbs to a parent or matches by pattern, or a path with a percent escape (which a path parser
/// might decode into a name the guard did not see): none of our systems sends those.
/// </param>
public readonly record struct AkkaFrame(AkkaFrameKind Kind, (string Host, int Port)? Origin, string? Target, bool UnusualPath)
{
    private static readonly AkkaFrame Unreadable = new(AkkaFrameKind.Unreadable, null, null, false);

    /// <summary>True when the first field is the payload, i.e. the frame carries no handshake: one byte decides.</summary>
    public static bool IsPayloadOnly(ReadOnlySpan<byte> frame) => frame.Length > 0 && frame[0] == Tag(1, WireType.Length);

    /// <summary>
    /// Reads the few fields that say what a frame is and whom it is for, in one pass over the bytes (nested messages
    /// are read inside the same buffer, never copied). Akka's protobuf reader merges a repeated singular field; this
    /// one calls such a frame unreadable instead, so the two can never disagree about the recipient.
    /// </summary>
    /// <param name="frame">One frame as the TLS transport delivers it, its length prefix removed.</param>
    /// <param name="selectionSerializerId">The serializer Akka uses for actor selections on this system.</param>
    public static AkkaFrame Read(ReadOnlySpan<byte> frame, int selectionSerializerId)
    {
        var reader = new ProtoReader(frame);
        ReadOnlySpan<byte> payload = default, instruction = default;
        var seen = 0;
        while (reader.Next(out var field, out var type))
        {
            if (field is 1 or 2 && type == WireType.Length)
            {
                if ((seen & (1 << field)) != 0 || !reader.Bytes(out var bytes))
                {
                    return Unreadable;
                }

                seen |= 1 << field;
                if (field == 1)
                {
                    payload = bytes;
                }
                else
                {
                    instruction = bytes;
                }
            }
            else if (!reader.Skip(type))
            {
                return Unreadable;
            }
        }

        return !reader.Failed && seen is 2 or 4 ? seen == 4 ? Control(instruction) : Envelope(payload, selectionSerializerId) : Unreadable;
    }

    /// <summary>AkkaControlMessage: commandType = 1 (ASSOCIATE = 1), handshakeInfo = 2 { origin = 1 { system = 1, hostname = 2, port = 3, protocol = 4 } }.</summary>
    private static AkkaFrame Control(ReadOnlySpan<byte> instruction)
    {
        const ulong associate = 1;
        // Protobuf 3 leaves a field at its default (0, NONE here) off the wire, so an absent command reads as 0.
        if (!Fields(instruction, new(1, WireType.Varint), new(2, WireType.Length), out var command, out var handshake))
        {
            return Unreadable;
        }

        if (command.Value != associate)
        {
            return handshake.Present ? Unreadable : new AkkaFrame(AkkaFrameKind.OtherControl, null, null, false);
        }

        var info = handshake.Of(instruction);
        if (!handshake.Present || !Fields(info, new(1, WireType.Length), None, out var origin, out _) || !origin.Present)
        {
            return Unreadable;
        }

        var address = origin.Of(info);
        return Fields(address, new(2, WireType.Length), new(3, WireType.Varint), out var host, out var port)
            && host.Present && port.Present && port.Value <= ushort.MaxValue
            ? new AkkaFrame(AkkaFrameKind.Associate, (Encoding.UTF8.GetString(host.Of(address)), (int)port.Value), null, false)
            : Unreadable;
    }

    /// <summary>
    /// AckAndEnvelopeContainer: ack = 1, envelope = 2 { recipient = 1 { path = 1 }, message = 2 { message = 1,
    /// serializerId = 2 } }; a selection's message is a SelectionEnvelope: pattern = 2 (repeated) { type = 1, matcher = 2 }.
    /// </summary>
    private static AkkaFrame Envelope(ReadOnlySpan<byte> payload, int selectionSerializerId)
    {
        if (!Fields(payload, new(1, WireType.Length), new(2, WireType.Length), out _, out var envelopeSlot))
        {
            return Unreadable;
        }

        if (!envelopeSlot.Present)
        {
            return new AkkaFrame(AkkaFrameKind.Acknowledgement, null, null, false);
        }

        var envelope = envelopeSlot.Of(payload);
        if (!Fields(envelope, new(1, WireType.Length), new(2, WireType.Length), out var recipientSlot, out var messageSlot)
            || !recipientSlot.Present || !messageSlot.Present)
        {
            return Unreadable;
        }

        var recipient = recipientSlot.Of(envelope);
        var message = messageSlot.Of(envelope);
        if (!Fields(recipient, new(1, WireType.Length), None, out var path, out _) || !path.Present
            || !Fields(message, new(1, WireType.Length), new(2, WireType.Varint), out var body, out var serializer) || !serializer.Present)
        {
            return Unreadable;
        }

        var target = new StringBuilder(PathBelowAddress(Encoding.UTF8.GetString(path.Of(recipient))));
        var unusual = false;
        if ((long)serializer.Value == selectionSerializerId && !AppendSelection(body.Of(message), target, ref unusual))
        {
            return Unreadable;
        }

        var targetPath = target.ToString();
        return new AkkaFrame(AkkaFrameKind.Message, null, targetPath, unusual || targetPath.Contains('%', StringComparison.Ordinal));
    }

    private static bool AppendSelection(ReadOnlySpan<byte> selection, StringBuilder target, ref bool unusual)
    {
        const ulong childName = 2;
        var reader = new ProtoReader(selection);
        while (reader.Next(out var field, out var type))
        {
            if (field != 2 || type != WireType.Length)
            {
                if (!reader.Skip(type))
                {
                    return false;
                }

                continue;
            }

            // An absent type is 0 (no pattern), which is unusual like a parent step or a pattern.
            if (!reader.Bytes(out var element) || !Fields(element, new(1, WireType.Varint), new(2, WireType.Length), out var kind, out var matcher))
            {
                return false;
            }

            if (kind.Value != childName || !matcher.Present)
            {
                unusual = true;
                continue;
            }

            if (target.Length == 0 || target[^1] != '/')
            {
                target.Append('/');
            }

            target.Append(Encoding.UTF8.GetString(matcher.Of(element)));
        }

        return !reader.Failed;
    }

    /// <summary>`akka.ssl.tcp://idos@host:port/system/x` gives `/system/x`; a path without an address is returned as it is.</summary>
    private static string PathBelowAddress(string path)
    {
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return path;
        }

        var slash = path.IndexOf('/', scheme + 3);
        return slash < 0 ? "/" : path[slash..];
    }

    private static readonly FieldSpec None = new(0, WireType.Varint);

    /// <summary>
    /// Finds two fields of one message (each of the wire type given; any other field skipped). False when the bytes do
    /// not read, a listed field has another wire type, or it comes twice.
    /// </summary>
    private static bool Fields(ReadOnlySpan<byte> message, FieldSpec firstSpec, FieldSpec secondSpec, out Slot first, out Slot second)
    {
        first = default;
        second = default;
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var type))
        {
            var isFirst = field == firstSpec.Number;
            if (!isFirst && field != secondSpec.Number)
            {
                if (!reader.Skip(type))
                {
                    return false;
                }

                continue;
            }

            var spec = isFirst ? firstSpec : secondSpec;
            if (type != spec.Type || (isFirst ? first : second).Present)
            {
                return false;
            }

            Slot found;
            if (type == WireType.Length)
            {
                if (!reader.Bytes(out var bytes))
                {
                    return false;
                }

                found = new Slot(true, reader.Position - bytes.Length, bytes.Length, 0);
            }
            else if (reader.Varint(out var value))
            {
                found = new Slot(true, 0, 0, value);
            }
            else
            {
                return false;
            }

            if (isFirst)
            {
                first = found;
            }
            else
            {
                second = found;
            }
        }

        return !reader.Failed;
    }

    private readonly record struct FieldSpec(int Number, WireType Type);

    /// <summary>Where a length-delimited field lies in its message, or a varint field's value.</summary>
    private readonly record struct Slot(bool Present, int Offset, int Length, ulong Value)
    {
        public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> message) => Present ? message.Slice(Offset, Length) : default;
    }

    private static byte Tag(int field, WireType type) => (byte)((field << 3) | (int)type);

    private enum WireType
    {
        Varint = 0,
        Fixed64 = 1,
        Length = 2,
        Fixed32 = 5,
    }

    /// <summary>A protobuf wire-format reader over a span: each byte is looked at once, lengths are checked before use.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int Position { get; private set; }

        public bool Failed { get; private set; }

        public bool Next(out int field, out WireType type)
        {
            field = 0;
            type = default;
            if (Failed || Position >= _bytes.Length)
            {
                return false;
            }

            if (!Varint(out var tag) || tag >> 3 is 0 or > int.MaxValue || (tag & 7) is not (0 or 1 or 2 or 5))
            {
                Failed = true;
                return false;
            }

            field = (int)(tag >> 3);
            type = (WireType)(tag & 7);
            return true;
        }

        public bool Varint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (Position >= _bytes.Length)
                {
                    return Fail();
                }

                var b = _bytes[Position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return true;
                }
            }

            return Fail();
        }

        public bool Bytes(out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (!Varint(out var length) || length > (ulong)(_bytes.Length - Position))
            {
                return Fail();
            }

            bytes = _bytes.Slice(Position, (int)length);
            Position += (int)length;
            return true;
        }

        public bool Skip(WireType type)
        {
            var width = type switch
            {
                WireType.Fixed64 => 8,
                WireType.Fixed32 => 4,
                _ => 0,
            };
            if (type == WireType.Varint)
            {
                return Varint(out _);
            }

            if (type == WireType.Length)
            {
                return Bytes(out _);
            }

            if (width > _bytes.Length - Position)
            {
                return Fail();
            }

            Position += width;
            return true;
        }

        private bool Fail()
        {
            Failed = true;
            return false;
        }
    }
}
