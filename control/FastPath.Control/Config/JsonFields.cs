using System.Text.Json;

namespace FastPath.Control.Config;

/// <summary>
/// The one check every object of a config makes: each member is one the reader knows. Each reader keeps its list
/// of known members in one array, which both this check and the error message read.
/// </summary>
/// <remarks>Stateless.</remarks>
internal static class JsonFields
{
    /// <summary>The first member of <paramref name="element"/> not in <paramref name="known"/>, or null.</summary>
    public static string? FirstUnknown(JsonElement element, string[] known)
    {
        foreach (JsonProperty member in element.EnumerateObject())
        {
            if (Array.IndexOf(known, member.Name) < 0)
            {
                return member.Name;
            }
        }

        return null;
    }

    /// <summary>The reason given for an unknown member: <c>unknown field (expected a, b, c)</c>.</summary>
    public static string Reason(string[] known, string? what = null) => $"unknown field{what} (expected {string.Join(", ", known)})";
}
