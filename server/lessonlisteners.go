package main

import "github.com/mqtts-playground/playground/broker/listenerset"

// The lesson listeners are opened by package listenerset (see
// App.addListeners); these names are for the server's pages and tests.

// RogueRelay is the name of the man-in-the-middle lesson listener.
const RogueRelay = listenerset.RogueRelay

// lessonListenerNames lists the lesson listeners in port order.
func lessonListenerNames() []string { return listenerset.LessonNames() }
