print("emnify-edge")
