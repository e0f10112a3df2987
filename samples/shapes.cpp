// C++ features a function typically needs: iostream, std::vector,
// std::string, virtual calls, lambdas, std::sort and std::map. Built with
// -fno-exceptions (the wasm32 libc++ has no exception support). The output is
// deterministic, so the end-to-end tests compare it byte for byte with a
// native build of this same file.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

class Shape {
public:
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual std::string name() const = 0;
};

class Rectangle : public Shape {
public:
  Rectangle(double w, double h) : w_(w), h_(h) {}
  double area() const override { return w_ * h_; }
  std::string name() const override { return "rectangle"; }

private:
  double w_, h_;
};

class Square : public Rectangle {
public:
  explicit Square(double side) : Rectangle(side, side) {}
  std::string name() const override { return "square"; }
};

class Triangle : public Shape {
public:
  Triangle(double base, double height) : base_(base), height_(height) {}
  double area() const override { return base_ * height_ / 2; }
  std::string name() const override { return "triangle"; }

private:
  double base_, height_;
};

} // namespace

int main() {
  std::vector<std::unique_ptr<Shape>> shapes;
  shapes.push_back(std::make_unique<Rectangle>(3, 4));
  shapes.push_back(std::make_unique<Triangle>(6, 5));
  shapes.push_back(std::make_unique<Square>(2.5));
  shapes.push_back(std::make_unique<Triangle>(1, 3));
  shapes.push_back(std::make_unique<Square>(4));

  std::sort(shapes.begin(), shapes.end(),
            [](const auto& a, const auto& b) { return a->area() > b->area(); });

  std::cout << std::fixed << std::setprecision(2);
  for (const auto& shape : shapes) {
    std::cout << std::setw(10) << shape->name() << ' ' << shape->area() << '\n';
  }

  double total = std::accumulate(shapes.begin(), shapes.end(), 0.0,
                                 [](double sum, const auto& s) { return sum + s->area(); });
  std::cout << "total area " << total << '\n';

  std::map<std::string, int> counts;
  for (const auto& shape : shapes) {
    counts[shape->name()]++;
  }
  for (const auto& [name, n] : counts) {
    std::cout << name << ": " << n << '\n';
  }

  const std::string text = "the quick brown fox jumps over the lazy dog the end";
  std::istringstream words(text);
  std::map<std::string, int> frequency;
  for (std::string word; words >> word;) {
    frequency[word] += 1;
  }
  std::string longest;
  for (const auto& [word, n] : frequency) {
    if (word.size() > longest.size()) {
      longest = word;
    }
  }
  std::cout << "distinct words " << frequency.size() << ", 'the' x" << frequency["the"]
            << ", longest '" << longest << "'\n";

  std::string upper = text.substr(4, 15);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  });
  std::cout << upper << std::endl;
  return 0;
}
