using Google.Protobuf;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

/// <summary>
/// The frame reader on frames written field by field as Akka.Remote's wire format has them (PinGuardTests runs it
/// on the frames Akka itself writes), and on bytes no Akka system writes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AkkaFrameTests
{
    private const int SelectionSerializer = 6;
    private const int OtherSerializer = 701;
    private const string Node = "akka.ssl.tcp://idos@127.0.0.1:4701";

    [Fact]
    public void A_message_is_read_as_its_recipients_path_with_a_selections_elements_appended()
    {
        Assert.Equal(new AkkaFrame(AkkaFrameKind.Message, null, "/user/query", false), Read(Message(Node + "/user/query", OtherSerializer, [])));
        var selection = Message(Node + "/", SelectionSerializer, Selection((2, "system"), (2, "cluster"), (2, "core"), (2, "daemon")));
        Assert.Equal("/system/cluster/core/daemon", Read(selection).Target);
        Assert.True(PinGuard.IsClusterPath(Read(selection).Target!));
        Assert.False(PinGuard.IsClusterPath("/system/clusterfoo"));
        Assert.True(Read(Message(Node + "/user", SelectionSerializer, Selection((1, ""), (2, "system")))).UnusualPath);
        Assert.True(Read(Message(Node + "/", SelectionSerializer, Selection((3, "clus*")))).UnusualPath);
        Assert.True(Read(Message(Node + "/", SelectionSerializer, Selection((0, "system")))).UnusualPath);
        Assert.True(Read(Message(Node + "/system/%63luster/core/daemon", OtherSerializer, [])).UnusualPath);
        Assert.True(Read(Message(Node + "/", SelectionSerializer, Selection((2, "system"), (2, "%63luster")))).UnusualPath);
        Assert.False(Read(Message(Node + "/temp/$a", OtherSerializer, [])).UnusualPath);
        Assert.Equal(AkkaFrameKind.Acknowledgement, Read(Frame(1, Container(ack: true, envelope: null))).Kind);
    }

    [Fact]
    public void A_handshake_is_read_as_the_address_it_claims_and_other_control_frames_as_such()
    {
        var associate = Frame(2, Bytes(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteEnum(1);
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(Bytes(h =>
            {
                h.WriteTag(1, WireFormat.WireType.LengthDelimited);
                h.WriteBytes(Bytes(a =>
                {
                    a.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    a.WriteString("idos");
                    a.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    a.WriteString("10.0.0.2");
                    a.WriteTag(3, WireFormat.WireType.Varint);
                    a.WriteUInt32(4701);
                    a.WriteTag(4, WireFormat.WireType.LengthDelimited);
                    a.WriteString("akka.ssl.tcp");
                }));
                h.WriteTag(2, WireFormat.WireType.Fixed64);
                h.WriteFixed64(12345);
            }));
        }));
        Assert.Equal(("10.0.0.2", 4701), Read(associate).Origin);
        Assert.Equal(AkkaFrameKind.Associate, Read(associate).Kind);
        Assert.False(AkkaFrame.IsPayloadOnly(associate));

        var heartbeat = Frame(2, Bytes(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteEnum(3);
        }));
        Assert.Equal(AkkaFrameKind.OtherControl, Read(heartbeat).Kind);
        Assert.True(AkkaFrame.IsPayloadOnly(Message(Node + "/user/x", OtherSerializer, [])));
    }

    [Fact]
    public void A_field_given_twice_or_of_the_wrong_kind_makes_the_frame_unreadable_so_no_reader_can_see_another_recipient()
    {
        var envelope = Envelope(Node + "/user/query", OtherSerializer, []);
        var twice = Frame(1, Bytes(w =>
        {
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(envelope);
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(Envelope(Node + "/system/cluster/core/daemon", OtherSerializer, []));
        }));
        Assert.Equal(AkkaFrameKind.Unreadable, Read(twice).Kind);
        var bothKinds = Concat(Message(Node + "/user/x", OtherSerializer, []), Frame(2, Bytes(w => w.WriteTag(1, WireFormat.WireType.Varint))));
        Assert.Equal(AkkaFrameKind.Unreadable, Read(bothKinds).Kind);
        var pathAsNumber = Frame(1, Container(ack: false, envelope: Bytes(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint);
            w.WriteUInt32(7);
        })));
        Assert.Equal(AkkaFrameKind.Unreadable, Read(pathAsNumber).Kind);
        Assert.Equal(AkkaFrameKind.Unreadable, Read([]).Kind);
    }

    [Fact]
    public void Truncated_flipped_and_random_bytes_are_read_without_an_exception()
    {
        var random = new Random(20261205);
        var samples = new[]
        {
            Message(Node + "/", SelectionSerializer, Selection((2, "system"), (2, "cluster"))),
            Message(Node + "/user/query", OtherSerializer, new byte[300]),
        };
        for (var i = 0; i < 20_000; i++)
        {
            var sample = samples[i % samples.Length];
            var bytes = (i % 3) switch
            {
                0 => sample[..random.Next(sample.Length)],
                1 => Flip(sample, random),
                _ => RandomBytes(random),
            };
            _ = AkkaFrame.Read(bytes, SelectionSerializer);
        }

        // A length that points past the end, and a varint that never ends.
        Assert.Equal(AkkaFrameKind.Unreadable, Read([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).Kind);
        Assert.Equal(AkkaFrameKind.Unreadable, Read([0x0A, .. Enumerable.Repeat((byte)0x80, 20)]).Kind);
    }

    private static AkkaFrame Read(byte[] frame) => AkkaFrame.Read(frame, SelectionSerializer);

    private static byte[] Message(string recipient, int serializer, byte[] message) =>
        Frame(1, Container(ack: false, envelope: Envelope(recipient, serializer, message)));

    private static byte[] Frame(int field, byte[] body) => Bytes(w =>
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(body);
    });

    private static byte[] Container(bool ack, byte[]? envelope) => Bytes(w =>
    {
        if (ack)
        {
            w.WriteTag(1, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(Bytes(a =>
            {
                a.WriteTag(1, WireFormat.WireType.Fixed64);
                a.WriteFixed64(3);
            }));
        }

        if (envelope is not null)
        {
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(envelope);
        }
    });

    private static byte[] Envelope(string recipient, int serializer, byte[] message) => Bytes(w =>
    {
        w.WriteTag(1, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Bytes(r =>
        {
            r.WriteTag(1, WireFormat.WireType.LengthDelimited);
            r.WriteString(recipient);
        }));
        w.WriteTag(2, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(Bytes(m =>
        {
            m.WriteTag(1, WireFormat.WireType.LengthDelimited);
            m.WriteBytes(message);
            m.WriteTag(2, WireFormat.WireType.Varint);
            m.WriteInt32(serializer);
        }));
        w.WriteTag(5, WireFormat.WireType.Fixed64);
        w.WriteFixed64(ulong.MaxValue);
    });

    /// <summary>A SelectionEnvelope: the enclosed message (empty here) and the elements, each (type, matcher).</summary>
    private static byte[] Selection(params (int Type, string Matcher)[] elements) => Bytes(w =>
    {
        w.WriteTag(1, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.Empty);
        foreach (var (type, matcher) in elements)
        {
            w.WriteTag(2, WireFormat.WireType.LengthDelimited);
            w.WriteBytes(Bytes(e =>
            {
                if (type != 0)
                {
                    e.WriteTag(1, WireFormat.WireType.Varint);
                    e.WriteEnum(type);
                }

                if (matcher.Length > 0)
                {
                    e.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    e.WriteString(matcher);
                }
            }));
        }
    });

    private static byte[] Bytes(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }

    private static byte[] Concat(byte[] a, byte[] b) => [.. a, .. b];

    private static byte[] Flip(byte[] sample, Random random)
    {
        var copy = (byte[])sample.Clone();
        copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(64)];
        random.NextBytes(bytes);
        return bytes;
    }
}

internal static class CodedOutputStreamExtensions
{
    public static void WriteBytes(this CodedOutputStream output, byte[] bytes) => output.WriteBytes(ByteString.CopyFrom(bytes));
}
