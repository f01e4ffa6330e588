using System.Security.Cryptography;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Engine;

/// <summary>The DRBG's allocation-free HMAC against System.Security.Cryptography's (OpenSSL) for every key length
/// around the block size and message lengths across one- and two-block paddings, including in-place output.</summary>
public sealed class HmacSha256Tests
{
    [Fact]
    public void Equals_the_platform_hmac_for_keys_and_messages_of_every_length_around_the_block_boundaries()
    {
        var random = new Random(9);
        int[] keyLengths = [0, 1, 31, 32, 33, 55, 56, 63, 64, 65, 100, 128, 129, 200];
        for (int keyLength = 0; keyLength < keyLengths.Length; keyLength++)
        {
            byte[] key = new byte[keyLengths[keyLength]];
            random.NextBytes(key);
            for (int dataLength = 0; dataLength <= 200; dataLength++)
            {
                byte[] data = new byte[dataLength];
                random.NextBytes(data);
                byte[] mine = new byte[32];
                HmacSha256.Compute(key, data, mine);
                Assert.Equal(HMACSHA256.HashData(key, data), mine);
            }
        }
    }

    [Fact]
    public void Output_may_overwrite_the_key_or_the_message()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] data = RandomNumberGenerator.GetBytes(32);
        byte[] expected = HMACSHA256.HashData(key, data);

        byte[] inPlaceData = (byte[])data.Clone();
        HmacSha256.Compute(key, inPlaceData, inPlaceData);
        Assert.Equal(expected, inPlaceData);

        byte[] inPlaceKey = (byte[])key.Clone();
        HmacSha256.Compute(inPlaceKey, data, inPlaceKey);
        Assert.Equal(expected, inPlaceKey);
    }
}
