"""The registers (clients, paper records) and the rules that link documents to them."""
