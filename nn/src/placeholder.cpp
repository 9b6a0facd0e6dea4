// Placeholder until the first nn source lands.
