using IdOS.Akka.Engine.Kwil.Auth;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The broadcast the real client sent in the wire capture: an EIP-191-signed add_attribute
/// from 0x19e7…ff2a with nonce 1 on chain idos-capture-test, and a way to make its signature high-s.
/// </summary>
internal static class CapturedBroadcast
{
    public const string Sender = "19e7e376e7c213b7e7e7e46cc70a5dd086daff2a";

    public const string Json = """
        {"signature":{"sig":"zPkTTBo4b1Be13NCV+EjTnOQa9q9QI1w4WwuEFicrjdKb2RIenGtNjEtQLlKHWLlsaVL12wrDhyUEfY5DmyWmhs=","type":"secp256k1_ep"},
         "body":{"desc":"Create a new attribute in your idOS profile","payload":"AAAEAAAAbWFpbg0AAABhZGRfYXR0cmlidXRlAQADACwAAAAAAA8AAAAAAAAAAAR1dWlkAAAAAAABABEAAAABC3sujpoMTV6POhwtPk9aayQAAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAkAAAABbmlja25hbWUhAAAAAAAPAAAAAAAAAAAEdGV4dAAAAAAAAQAGAAAAAWFsaWNl",
                 "type":"execute","fee":"0","nonce":1,"chain_id":"idos-capture-test"},
         "sender":"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a","serialization":"concat"}
        """;

    /// <summary>The same signature with s replaced by n − s and v flipped: valid ECDSA, refused by EIP-2's low-s rule.</summary>
    public static byte[] Malleate(byte[] signature)
    {
        var s = new Org.BouncyCastle.Math.BigInteger(1, signature[32..64]);
        var high = Secp256k1.Order.Subtract(s).ToByteArrayUnsigned();
        var malleated = (byte[])signature.Clone();
        Array.Clear(malleated, 32, 32);
        high.CopyTo(malleated, 64 - high.Length);
        malleated[64] = (byte)(signature[64] == 27 ? 28 : 27);
        return malleated;
    }
}
