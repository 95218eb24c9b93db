"""The board on screen: the only package that imports Kivy."""
