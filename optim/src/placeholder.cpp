// Placeholder until the first optim source lands.
